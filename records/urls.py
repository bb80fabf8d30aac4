from django.urls import path

from . import views

app_name = "records"

urlpatterns = [
    path("", views.request_list, name="request-list"),
    path("requests/new/", views.request_new, name="request-new"),
    path("requests/<str:reference>/", views.request_detail, name="request-detail"),
    path("requests/<str:reference>/upload/", views.request_upload, name="request-upload"),
    path("requests/<str:reference>/extend/", views.request_extend, name="request-extend"),
    path("requests/<str:reference>/status/", views.request_status, name="request-status"),
]
