"""Model, Models, Intent(s), Slot(s), LLM - Data Sources and LLM - Vocabulary endpoints of the toolbox API."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.roles import COMPANY_ADMIN, MODEL_MANAGER
from apps.core.api.responses import ok
from apps.core.api.schema import envelope, toolbox_schema
from apps.core.api.views import CompanyAPIView
from apps.models_registry import selectors
from apps.models_registry.api import serializers as s
from apps.models_registry.services import content, datasources, inference, models, speech, training, transfer

MODEL = ["Model"]
MODELS = ["Models"]
INTENT = ["Intent"]
INTENTS = ["Intents"]
SLOT = ["Slot"]
SLOTS = ["Slots"]
DATASOURCES = ["LLM - Data Sources"]
VOCABULARY = ["LLM - Vocabulary"]
MODELID_QUERY = OpenApiParameter("modelid", str, OpenApiParameter.QUERY, required=True, description="The model's id.")
ERRORS = (400, 401, 403, 404)


class RegistryView(CompanyAPIView):
    required_roles = (COMPANY_ADMIN, MODEL_MANAGER)


# --- models -------------------------------------------------------------------------------------------


class ModelsGetView(RegistryView):
    @toolbox_schema(
        summary="List the company's models, with their training state",
        description="`state` is draft, queued, training, trained or failed; `progress` 0 to 100; `error` the last "
        "failed run's reason; `version` the trained version in use (0: never trained).",
        tags=MODELS,
        response=envelope("ModelsResponse", models=s.ModelSerializer(many=True)),
        errors=(401, 403),
    )
    def get(self, request: Request) -> Response:
        return ok(models=s.ModelSerializer(selectors.model_list(company=self.company), many=True).data)


class ModelsDeleteView(RegistryView):
    @toolbox_schema(
        summary="Delete models with their intents, slots, vocabulary, data sources and trained versions",
        description="All or nothing: an unknown id (or another company's) deletes none and answers 404; a model "
        "with `candelete: false` answers 409.",
        tags=MODELS,
        request=s.ModelsDeleteInputSerializer,
        errors=(400, 401, 403, 404, 409),
    )
    def delete(self, request: Request) -> Response:
        data = self.validated(s.ModelsDeleteInputSerializer, list_fields=("models",))
        models.models_delete(company=self.company, actor=request.user, modelids=data["models"])
        return ok(message="Models deleted successfully.")


class ModelDeployView(RegistryView):
    @toolbox_schema(
        summary="Deploy or undeploy a model",
        description='`isdeployed` is true or false (also the strings "true"/"false"). Only a trained model '
        "can be deployed (409 otherwise).",
        tags=MODEL,
        request=s.DeployInputSerializer,
        response=envelope("DeployResponse", message=serializers.CharField(), modelid=serializers.UUIDField()),
        errors=(400, 401, 403, 404, 409),
    )
    def put(self, request: Request) -> Response:
        data = self.validated(s.DeployInputSerializer)
        model = models.model_deploy(company=self.company, actor=request.user, **data)
        message = "Model deployed successfully." if model.isdeployed else "Model undeployed successfully."
        return ok(message=message, modelid=str(model.pk))


class ModelSaveView(RegistryView):
    @toolbox_schema(
        summary="Create a model, or update the one `modelid` names",
        description=(
            "`input` and `output` are JSON arrays, sent as arrays or as strings holding JSON; models/get shows "
            "them as arrays. For natural-bayes, `input` items are `{intent, utterance}` or NLP.js corpus style "
            "`{intent, utterances: [...]}` and `output` items `{intent, answer}` (or `answers`). "
            "`isdefault_llm: true` (llm models only) makes this the company's one default LLM. "
            "`model_name_or_path` names the provider model of an llm model (`provider.model`). "
            "The algorithm of an existing model cannot change."
        ),
        tags=MODEL,
        request=s.ModelSaveInputSerializer,
        response=envelope("ModelSaveResponse", message=serializers.CharField(), modelid=serializers.UUIDField()),
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.ModelSaveInputSerializer)
        model = models.model_save(company=self.company, actor=request.user, **data)
        return ok(message="Model saved successfully.", modelid=str(model.pk))


class ModelTrainView(RegistryView):
    @toolbox_schema(
        summary="Train a model (a background job)",
        description=(
            "Queues the training and answers at once; `state`, `progress` and `error` show in models/get. "
            "natural-bayes learns from the model's input and its intents' utterances (intents named only in "
            "the input are created); llm indexes its data sources and vocabulary for retrieval; asr checks that "
            "the engine `model_name_or_path` names (`faster-whisper-base`, the default; `pocketsphinx`; or a "
            "provider's `provider.model`) loads, and keeps it with the vocabulary, which biases recognition. A "
            "failed run leaves the previous trained version in use. 409 while a training is already queued or "
            "running. State and progress are also pushed on the company's events socket (`job_progress`, "
            "`job: training`)."
        ),
        tags=MODEL,
        request=s.ModelIdSerializer,
        response=envelope(
            "TrainResponse",
            message=serializers.CharField(),
            modelid=serializers.UUIDField(),
            state=serializers.CharField(),
        ),
        errors=(400, 401, 403, 404, 409),
    )
    def put(self, request: Request) -> Response:
        data = self.validated(s.ModelIdSerializer)
        model = training.model_train(company=self.company, actor=request.user, modelid=data["modelid"])
        return ok(message="Training started.", modelid=str(model.pk), state=model.state)


class ModelTestView(RegistryView):
    @toolbox_schema(
        summary="Test a trained model with a sentence",
        description=(
            "natural-bayes: `output` has `score` (0..1), `intent` (null when out of scope), `language`, `response` "
            "(the intent's answer, or the follow-up question of the first required slot still missing), "
            "`entities` (email, url, phone, date, number, slot values, vocabulary terms) and `sentiment`, plus "
            "NLP.js-style `utterance`, `locale`, `classifications`, `answer` and, while a required slot is missing, "
            "`slotFill` (send it back as `context` with the next sentence to fill that slot). `classifications` lists "
            "the 10 best intents and None, best first (the `classifications` parameter asks for another number; 0 "
            "for all). llm: `response` is "
            "answered from the best passages of the model's data sources and vocabulary, with `sources` and "
            "`passages`. asr: send multipart/form-data with `file` (wav, mp3, flac or ogg, by content; at most "
            "ASR_AUDIO_MAX_BYTES) and optionally `language`; `output` has `text` (also in `response`), `segments` "
            "with word timings, `language`, `duration` (seconds), `engine` and `score` (mean word confidence). "
            "409 when the model has not been trained."
        ),
        tags=MODEL,
        request=s.ModelTestInputSerializer,
        response=envelope("ModelTestResponse", output=serializers.DictField(), result=serializers.CharField()),
        errors=(400, 401, 403, 404, 409),
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.ModelTestInputSerializer)
        upload = data.get("file")
        if upload is not None:
            output = speech.model_test_audio(
                company=self.company,
                actor=request.user,
                modelid=data["modelid"],
                data=upload.read(settings.ASR_AUDIO_MAX_BYTES + 1),
                filename=upload.name,
                language=data.get("language"),
            )
        else:
            output = inference.model_test(
                company=self.company,
                actor=request.user,
                modelid=data["modelid"],
                input=data.get("input", ""),
                context=data.get("context"),
                classifications=data.get("classifications"),
            )
        return ok(output=output, result=output["response"])


class ModelExportView(RegistryView):
    @toolbox_schema(
        summary="Export a model as a ZIP (model, intents, slots, vocabulary, training data, data sources' text)",
        description="The id goes in the path (`model/export/{modelid}`) or as `?modelid=`. The trained version is "
        "not included: import, then train.",
        tags=MODEL,
        parameters=[
            OpenApiParameter("modelid", str, OpenApiParameter.QUERY, required=False, description="The model's id.")
        ],
        response=OpenApiTypes.BINARY,
        errors=ERRORS,
    )
    def get(self, request: Request, modelid: str | None = None) -> HttpResponse:
        if modelid is None:
            modelid = self.validated(s.ModelIdSerializer)["modelid"]
        name, data = transfer.model_export(company=self.company, actor=request.user, modelid=modelid)
        response = HttpResponse(data, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


@extend_schema_view(get=extend_schema(operation_id="toolbox_tools_model_export_by_path", parameters=[]))
class ModelExportPathView(ModelExportView):
    """model/export/{modelid}: the same, with the id in the path."""


class ModelImportView(RegistryView):
    parser_classes = [MultiPartParser, FormParser]

    @toolbox_schema(
        summary="Import a model from a ZIP made by model/export (a new, untrained model in your company)",
        description="multipart/form-data with `file`. Non-ZIP files, unexpected paths (traversal), archives "
        "over the size limits or with suspicious compression (zip bombs) and malformed content are refused and "
        "nothing is created.",
        tags=MODEL,
        request={"multipart/form-data": s.ImportInputSerializer},
        response=envelope("ImportResponse", message=serializers.CharField(), modelid=serializers.UUIDField()),
        errors=(400, 401, 403, 413),
    )
    def put(self, request: Request) -> Response:
        upload = self.validated(s.ImportInputSerializer)["file"]
        data = upload.read(settings.REGISTRY_IMPORT_MAX_BYTES + 1)
        model = transfer.model_import(company=self.company, actor=request.user, data=data)
        return ok(message="File imported successfully.", modelid=str(model.pk))


# --- intents -------------------------------------------------------------------------------------------------


class IntentsGetView(RegistryView):
    @toolbox_schema(
        summary="List a model's intents",
        tags=INTENTS,
        parameters=[MODELID_QUERY],
        response=envelope("IntentsResponse", intents=s.IntentSerializer(many=True)),
        errors=ERRORS,
    )
    def get(self, request: Request) -> Response:
        model = selectors.model_get(company=self.company, modelid=self.validated(s.ModelIdSerializer)["modelid"])
        intents = selectors.intent_list(company=self.company, model=model)
        return ok(intents=s.IntentSerializer(intents, many=True).data)


class IntentsDeleteView(RegistryView):
    @toolbox_schema(
        summary="Delete intents (and their slots)",
        description="All or nothing: an unknown id (or another company's) deletes none and answers 404.",
        tags=INTENTS,
        request=s.IntentsDeleteInputSerializer,
        errors=ERRORS,
    )
    def delete(self, request: Request) -> Response:
        data = self.validated(s.IntentsDeleteInputSerializer, list_fields=("intents",))
        content.intents_delete(
            company=self.company, actor=request.user, intentids=data["intents"], modelid=data.get("modelid")
        )
        return ok(message="Intents deleted successfully.")


class IntentSaveView(RegistryView):
    @toolbox_schema(
        summary="Create an intent, or rename/update the one `intentid` names",
        description="Optional `utterances` (training examples, added to the model's input at training) and "
        "`answer` (the response when the intent is recognised). Names are unique in a model (409).",
        tags=INTENT,
        request=s.IntentSaveInputSerializer,
        response=envelope("IntentSaveResponse", message=serializers.CharField(), intentid=serializers.UUIDField()),
        errors=(400, 401, 403, 404, 409),
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.IntentSaveInputSerializer)
        row = content.intent_save(company=self.company, actor=request.user, **data)
        return ok(message="Intent saved successfully.", intentid=str(row.pk))


# --- slots -----------------------------------------------------------------------------------------------------


class SlotGetView(RegistryView):
    @toolbox_schema(
        summary="One slot of a model, by name (the slot's fields at the top level)",
        tags=SLOT,
        parameters=[
            MODELID_QUERY,
            OpenApiParameter("name", str, OpenApiParameter.QUERY, required=True, description="The slot's name."),
        ],
        response=s.SlotEnvelopeSerializer,
        errors=ERRORS,
    )
    def get(self, request: Request) -> Response:
        data = self.validated(s.SlotGetInputSerializer)
        model = selectors.model_get(company=self.company, modelid=data["modelid"])
        slot = selectors.slot_get_by_name(company=self.company, model=model, name=data["name"])
        return ok(**s.SlotSerializer(slot).data)


class SlotSaveView(RegistryView):
    @toolbox_schema(
        summary="Create a slot, or update the one `slotid` names",
        description=(
            "`conditions` is a JSON array (or a string holding one) of the values the slot accepts: strings, or "
            '`{"value": "...", "synonyms": [...]}`. A required slot needs `followup`, the question asked while '
            "it is missing. Slot names are unique in a model (409)."
        ),
        tags=SLOT,
        request=s.SlotSaveInputSerializer,
        response=envelope("SlotSaveResponse", message=serializers.CharField(), slotid=serializers.UUIDField()),
        errors=(400, 401, 403, 404, 409),
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.SlotSaveInputSerializer)
        row = content.slot_save(company=self.company, actor=request.user, **data)
        return ok(message="Slot saved successfully.", slotid=str(row.pk))


class SlotsGetView(RegistryView):
    @toolbox_schema(
        summary="List a model's slots",
        tags=SLOTS,
        parameters=[MODELID_QUERY],
        response=envelope("SlotsResponse", slots=s.SlotSerializer(many=True)),
        errors=ERRORS,
    )
    def get(self, request: Request) -> Response:
        model = selectors.model_get(company=self.company, modelid=self.validated(s.ModelIdSerializer)["modelid"])
        return ok(slots=s.SlotSerializer(selectors.slot_list(company=self.company, model=model), many=True).data)


class SlotsDeleteView(RegistryView):
    @toolbox_schema(
        summary="Delete slots of a model",
        description="All or nothing: an unknown id (or another company's) deletes none and answers 404.",
        tags=SLOTS,
        request=s.SlotsDeleteInputSerializer,
        errors=ERRORS,
    )
    def delete(self, request: Request) -> Response:
        data = self.validated(s.SlotsDeleteInputSerializer, list_fields=("slots",))
        content.slots_delete(company=self.company, actor=request.user, modelid=data["modelid"], slotids=data["slots"])
        return ok(message="Slots deleted successfully.")


# --- vocabulary ----------------------------------------------------------------------------------------------------


class VocabularyGetView(RegistryView):
    @toolbox_schema(
        summary="A model's vocabulary",
        description="Each entry has `id`, `term` and `definition`, and the same as `text` and `description` "
        "(the names vocabulary/save takes).",
        tags=VOCABULARY,
        parameters=[MODELID_QUERY],
        response=envelope("VocabularyResponse", vocabulary=s.VocabularySerializer(many=True)),
        errors=ERRORS,
    )
    def get(self, request: Request) -> Response:
        model = selectors.model_get(company=self.company, modelid=self.validated(s.ModelIdSerializer)["modelid"])
        entries = selectors.vocabulary_list(company=self.company, model=model)
        return ok(vocabulary=s.VocabularySerializer(entries, many=True).data)


class VocabularySaveView(RegistryView):
    @toolbox_schema(
        summary="Add a vocabulary entry (not added again when the model has that text)",
        description=(
            "For natural-bayes models, a text of several forms separated by `|` (`refund|money back`) makes "
            "them synonyms of the first. `added` tells whether the entry was new."
        ),
        tags=VOCABULARY,
        request=s.VocabularySaveInputSerializer,
        response=envelope("VocabularySaveResponse", message=serializers.CharField(), added=serializers.BooleanField()),
        errors=ERRORS,
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.VocabularySaveInputSerializer)
        added = content.vocabulary_save(company=self.company, actor=request.user, **data)
        return ok(message="Vocabulary saved successfully.", added=added)


class VocabularyDeleteView(RegistryView):
    @toolbox_schema(
        summary="Delete a vocabulary entry", tags=VOCABULARY, request=s.VocabularyDeleteInputSerializer, errors=ERRORS
    )
    def delete(self, request: Request) -> Response:
        data = self.validated(s.VocabularyDeleteInputSerializer)
        content.vocabulary_delete(company=self.company, actor=request.user, modelid=data["modelid"], entryid=data["id"])
        return ok(message="Vocabulary deleted successfully.")


class VocabularyUploadView(RegistryView):
    parser_classes = [MultiPartParser, FormParser]

    @toolbox_schema(
        summary="Upload vocabulary files (doc, docx, pdf, txt): one entry per line",
        description=(
            "multipart/form-data with `modelid` and one or more `files`. Each line is `term: definition` (tab, "
            "` - ` or `=` also separate them) or a bare term; terms the model has are not added again. Files are "
            "checked by content; a file of another type, empty, damaged or over the size limit is refused with "
            "its name, and nothing of that request is saved."
        ),
        tags=VOCABULARY,
        request={"multipart/form-data": s.UploadInputSerializer},
        response=envelope(
            "VocabularyUploadResponse",
            message=serializers.CharField(),
            added=serializers.IntegerField(),
            lines=serializers.IntegerField(),
        ),
        errors=(400, 401, 403, 404, 413),
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.UploadInputSerializer, list_fields=("files",))
        added, lines = datasources.vocabulary_upload(company=self.company, actor=request.user, **data)
        return ok(message="Vocabulary uploaded successfully.", added=added, lines=lines)


# --- data sources -------------------------------------------------------------------------------------------------


class DataSourcesGetView(RegistryView):
    @toolbox_schema(
        summary="A model's data sources, keyed by name",
        description="Each has `id`, `type` (url or file), `value` (the URL or file name), `characters` of text "
        "kept, `updated`, and `metadata` (originalname, mimetype, extension, path: the URL for url sources, "
        "size in bytes).",
        tags=DATASOURCES,
        parameters=[MODELID_QUERY],
        response=envelope("DataSourcesResponse", datasource=serializers.DictField()),
        errors=ERRORS,
    )
    def get(self, request: Request) -> Response:
        model = selectors.model_get(company=self.company, modelid=self.validated(s.ModelIdSerializer)["modelid"])
        sources = list(selectors.datasource_list(company=self.company, model=model).defer("text"))
        return ok(datasource=s.datasources_by_name(sources))


class DataSourceSaveView(RegistryView):
    @toolbox_schema(
        summary="Add a URL data source to an llm model, or refresh it when the model has that URL",
        description=(
            "The page is fetched (timeout, size limit; private, loopback and link-local addresses are refused) and "
            "its text kept: HTML is turned into text, PDF, Word and plain text are read. Train the model to "
            "index it."
        ),
        tags=DATASOURCES,
        request=s.DataSourceSaveInputSerializer,
        response=envelope(
            "DataSourceSaveResponse",
            message=serializers.CharField(),
            id=serializers.UUIDField(),
            created=serializers.BooleanField(),
        ),
        errors=(400, 401, 403, 404, 502),
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.DataSourceSaveInputSerializer)
        source, created = datasources.datasource_save_url(company=self.company, actor=request.user, **data)
        return ok(message="Datasource saved successfully.", id=str(source.pk), created=created)


class DataSourceDeleteView(RegistryView):
    @toolbox_schema(
        summary="Delete a data source", tags=DATASOURCES, request=s.DataSourceDeleteInputSerializer, errors=ERRORS
    )
    def delete(self, request: Request) -> Response:
        data = self.validated(s.DataSourceDeleteInputSerializer)
        datasources.datasource_delete(
            company=self.company, actor=request.user, modelid=data["modelid"], sourceid=data["id"]
        )
        return ok(message="Datasource deleted successfully.")


class DataSourcesUploadView(RegistryView):
    parser_classes = [MultiPartParser, FormParser]

    @toolbox_schema(
        summary="Upload documents (doc, docx, pdf, txt) as data sources of an llm model",
        description=(
            "multipart/form-data with `modelid` and one or more `files`. Files are checked by content, not by "
            "name; a file of another type, empty, damaged or over the size limit is refused with its name, and "
            "nothing of that request is saved."
        ),
        tags=DATASOURCES,
        request={"multipart/form-data": s.UploadInputSerializer},
        response=envelope(
            "DataSourcesUploadResponse",
            message=serializers.CharField(),
            ids=serializers.ListField(child=serializers.UUIDField()),
        ),
        errors=(400, 401, 403, 404, 413),
    )
    def post(self, request: Request) -> Response:
        data = self.validated(s.UploadInputSerializer, list_fields=("files",))
        sources = datasources.datasources_upload(company=self.company, actor=request.user, **data)
        return ok(message="Data Sources uploaded successfully.", ids=[str(source.pk) for source in sources])
