from django.urls import path

from apps.automations.api import views

urlpatterns = [
    path("toolbox/tools/automation/get", views.AutomationGetView.as_view()),
    path("toolbox/tools/automation/save", views.AutomationSaveView.as_view()),
    path("toolbox/tools/automation/test", views.AutomationTestView.as_view()),
    path("toolbox/tools/automation/history", views.AutomationHistoryView.as_view()),
    path("toolbox/tools/automation/clone", views.AutomationCloneView.as_view()),
    path("toolbox/tools/automation/trigger/rotate", views.AutomationTriggerRotateView.as_view()),
    path("toolbox/tools/automation/run/get", views.AutomationRunGetView.as_view()),
    path("toolbox/tools/automation/run/cancel", views.AutomationRunCancelView.as_view()),
    path("toolbox/tools/automations/get", views.AutomationsListView.as_view()),
    path("toolbox/tools/automations/delete", views.AutomationsDeleteView.as_view()),
    path("automations/trigger/<str:secret>", views.TriggerView.as_view()),
]
