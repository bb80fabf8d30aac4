"""The REST API for department systems and staff: serializers, viewsets, permissions, URLs."""
