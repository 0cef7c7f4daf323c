from django.urls import path

from apps.activities.api import views

urlpatterns = [
    path("toolbox/tools/activities/get", views.ActivitiesListView.as_view()),
    path("toolbox/tools/activities/delete", views.ActivitiesDeleteView.as_view()),
    path("toolbox/tools/activity/get", views.ActivityGetView.as_view()),
    path("toolbox/tools/activity/save", views.ActivitySaveView.as_view()),
    path("toolbox/tools/activity/clone", views.ActivityCloneView.as_view()),
]
