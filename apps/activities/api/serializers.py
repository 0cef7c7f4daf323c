"""Input and output shapes of the activity endpoints."""

from __future__ import annotations

from rest_framework import serializers


class ActivitySerializer(serializers.Serializer):
    """An activity as the API shows it."""

    isactive = serializers.BooleanField(source="is_active")
    activityid = serializers.UUIDField(source="id")
    name = serializers.CharField()
    modelid = serializers.UUIDField(source="model_id", allow_null=True)
    description = serializers.CharField()
    prompt = serializers.CharField()


class ActivitiesListInputSerializer(serializers.Serializer):
    isactive = serializers.BooleanField(required=False, allow_null=True, default=None)


class ActivityIdInputSerializer(serializers.Serializer):
    activityid = serializers.CharField(max_length=100)


class ActivitySaveInputSerializer(serializers.Serializer):
    activityid = serializers.CharField(max_length=100, required=False, allow_null=True, allow_blank=True)
    name = serializers.CharField(max_length=200)
    modelid = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    prompt = serializers.CharField(required=False, allow_blank=True, max_length=50000, trim_whitespace=False)
    isactive = serializers.BooleanField(required=False)


class ActivityCloneInputSerializer(serializers.Serializer):
    activityid = serializers.CharField(max_length=100)
    name = serializers.CharField(max_length=200)


class ActivitiesDeleteInputSerializer(serializers.Serializer):
    activities = serializers.ListField(child=serializers.CharField(max_length=100), allow_empty=False, max_length=1000)
