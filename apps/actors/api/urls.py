from django.urls import path

from apps.actors.api import views

urlpatterns = [
    path("toolbox/tools/actor/get", views.ActorGetView.as_view()),
    path("toolbox/tools/actor/save", views.ActorSaveView.as_view()),
    path("toolbox/tools/actors/get", views.ActorsListView.as_view()),
    path("toolbox/tools/actors/delete", views.ActorsDeleteView.as_view()),
]
