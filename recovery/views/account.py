"""The patient's account: change the password, download everything the portal keeps about them."""

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render

from recovery.clock import clinic_today
from recovery.export import as_csv, patient_data
from recovery.views.access import patient_required


@patient_required
def account(request):
    return render(request, "recovery/account.html")


def _attachment(response, extension):
    response["Content-Disposition"] = (
        f'attachment; filename="apex-recovery-my-data-{clinic_today():%Y-%m-%d}.{extension}"'
    )
    return response


@patient_required
def export_json(request):
    response = JsonResponse(patient_data(request.user), encoder=DjangoJSONEncoder, json_dumps_params={"indent": 2})
    return _attachment(response, "json")


@patient_required
def export_csv(request):
    response = HttpResponse(as_csv(patient_data(request.user)), content_type="text/csv; charset=utf-8")
    return _attachment(response, "csv")
