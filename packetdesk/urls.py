"""The site's URL map: the records pages, the API and its schema, login, admin, health check."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from records.views import healthz

# Swagger UI from drf-spectacular-sidecar's static files, its start-up script a separate
# request to the same view: the Content-Security-Policy allows no other origin, no inline code.
api_docs = SpectacularSwaggerSplitView.as_view(url_name="api-schema", template_name="api/swagger_ui.html")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("records.api.urls", namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),
    path("", include("records.urls")),
]
