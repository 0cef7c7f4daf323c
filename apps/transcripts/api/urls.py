from django.urls import path

from apps.transcripts.api import views

urlpatterns = [
    path("transcript/get", views.TranscriptGetView.as_view()),
    path("transcript/get/<str:transcriptid>", views.TranscriptGetView.as_view()),
    path("transcript/save", views.TranscriptSaveView.as_view()),
    path("transcript/import", views.TranscriptImportView.as_view()),
    path("transcript/upload", views.TranscriptUploadView.as_view()),
    path("transcript/retry", views.TranscriptRetryView.as_view()),
    path("transcript/retry/<str:transcriptid>", views.TranscriptRetryView.as_view()),
    path("transcript/export", views.TranscriptExportView.as_view()),
    path("transcript/export/<str:transcriptid>", views.TranscriptExportView.as_view()),
    path("transcripts/get", views.TranscriptsListView.as_view()),
    path("transcripts/delete", views.TranscriptsDeleteView.as_view()),
    path("transcripts/export", views.TranscriptsExportView.as_view()),
]
