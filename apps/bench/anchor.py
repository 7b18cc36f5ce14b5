"""The anchor of ``bench load``: a bare DRF endpoint that inserts one row.

Served only when ``BENCH_ANCHOR_ENDPOINT`` is on (``bench load`` turns it on
for the stack it starts): the same authentication and role check as the
order endpoint, one serializer field, one INSERT. What the API's endpoints
cost above it is their own work.
"""

from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.bench.models import AnchorRow
from apps.core.api import IsHQOrIntegration


class AnchorRowSerializer(serializers.ModelSerializer):
    class Meta:
        model = AnchorRow
        fields = ["id", "label"]


class AnchorView(APIView):
    permission_classes = [IsHQOrIntegration]
    serializer_class = AnchorRowSerializer

    def post(self, request):
        row = AnchorRowSerializer(data=request.data)
        row.is_valid(raise_exception=True)
        row.save()
        return Response(row.data, status=status.HTTP_201_CREATED)
