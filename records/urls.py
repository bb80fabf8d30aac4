"""URL map of the server-rendered pages for clerks, managers, departments and requesters."""

from django.urls import include, path

from .views import dashboard, packets, requester, requests, review, tasks

app_name = "records"

request_urls = [
    path("", requests.request_detail, name="request-detail"),
    path("upload/", requests.request_upload, name="request-upload"),
    path("extend/", requests.request_extend, name="request-extend"),
    path("extension-notice/", requests.extension_notice, name="extension-notice"),
    path("status/", requests.request_status, name="request-status"),
    path("tasks/", requests.request_task, name="request-task"),
    path("dedupe/", requests.dedupe_start, name="dedupe-start"),
    path("dedupe/progress.json", requests.dedupe_progress, name="dedupe-progress"),
    path("review/", review.review, name="review"),
    path("review/groups/<int:group_id>/authoritative/", review.choose_authoritative, name="review-authority"),
    path("review/groups/<int:group_id>/accept/", review.accept_group, name="review-accept"),
    path("review/groups/<int:group_id>/split/", review.split_member, name="review-split"),
    path("review/groups/<int:group_id>/merge/", review.merge_groups, name="review-merge"),
    path("review/images/<int:image_id>/merge/", review.merge_item, name="review-merge-item"),
    path("review/withhold/", review.withhold, name="review-withhold"),
    path("review/unwithhold/", review.release_withholding, name="review-unwithhold"),
    path("redactions/", review.redactions, name="redactions"),
    path("redactions/<int:redaction_id>/<str:action>/", review.redaction_action, name="redaction-action"),
    path("packet/", packets.packet_page, name="packet"),
    path("packet/state.json", packets.packet_state, name="packet-state"),
    path("packet/build/", packets.packet_build, name="packet-build"),
    path("packet/<int:packet_id>/release/", packets.packet_release, name="packet-release"),
    path("packet/<int:packet_id>/new-link/", packets.packet_new_link, name="packet-new-link"),
    path("packet/<int:packet_id>/<str:what>", packets.packet_file, name="packet-file"),
    path("links/<int:link_id>/revoke/", packets.link_revoke, name="link-revoke"),
]

urlpatterns = [
    path("", requests.request_list, name="request-list"),
    path("requests/new/", requests.request_new, name="request-new"),
    path("requests/deadline.json", requests.deadline_preview, name="deadline-preview"),
    path("requests/<str:reference>/", include(request_urls)),
    path("images/<int:image_id>/preview.jpg", review.image_preview, name="image-preview"),
    path("items/<int:item_id>/view.jpg", review.item_view, name="item-view"),
    path("tasks/", tasks.my_tasks, name="my-tasks"),
    path("tasks/<int:task_id>/answer/", tasks.task_answer, name="task-answer"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/metrics.csv", dashboard.dashboard_csv, name="dashboard-csv"),
    path("p/<str:token>/", requester.requester_packet, name="requester-packet"),
    path("p/<str:token>/files/<str:name>", requester.requester_file, name="requester-file"),
    path("p/<str:token>/<str:what>", requester.requester_download, name="requester-download"),
]
