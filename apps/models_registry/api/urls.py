from django.urls import path

from apps.models_registry.api import views

P = "toolbox/tools/"
urlpatterns = [
    path(P + "models/get", views.ModelsGetView.as_view()),
    path(P + "models/delete", views.ModelsDeleteView.as_view()),
    path(P + "models/deploy", views.ModelDeployView.as_view()),
    path(P + "model/save", views.ModelSaveView.as_view()),
    path(P + "model/train", views.ModelTrainView.as_view()),
    path(P + "model/test", views.ModelTestView.as_view()),
    path(P + "model/export", views.ModelExportView.as_view()),
    path(P + "model/export/<str:modelid>", views.ModelExportPathView.as_view()),
    path(P + "model/import", views.ModelImportView.as_view()),
    path(P + "models/intents/get", views.IntentsGetView.as_view()),
    path(P + "models/intents/delete", views.IntentsDeleteView.as_view()),
    path(P + "models/intent/save", views.IntentSaveView.as_view()),
    path(P + "models/slot/get", views.SlotGetView.as_view()),
    path(P + "models/slot/save", views.SlotSaveView.as_view()),
    path(P + "models/slots/get", views.SlotsGetView.as_view()),
    path(P + "models/slots/delete", views.SlotsDeleteView.as_view()),
    path(P + "models/vocabulary/get", views.VocabularyGetView.as_view()),
    path(P + "models/vocabulary/save", views.VocabularySaveView.as_view()),
    path(P + "models/vocabulary/delete", views.VocabularyDeleteView.as_view()),
    path(P + "models/vocabulary/upload", views.VocabularyUploadView.as_view()),
    path(P + "models/datasources/get", views.DataSourcesGetView.as_view()),
    path(P + "models/datasources/save", views.DataSourceSaveView.as_view()),
    path(P + "models/datasources/delete", views.DataSourceDeleteView.as_view()),
    path(P + "models/datasources/upload", views.DataSourcesUploadView.as_view()),
]
