from django.urls import path

from apps.notes.api import views

urlpatterns = [
    path("toolbox/tools/notes/get", views.NotesGetView.as_view()),
    path("toolbox/tools/notes/get/<str:recordid>", views.NotesGetByPathView.as_view()),
    path("toolbox/tools/notes/save", views.NoteSaveView.as_view()),
]
