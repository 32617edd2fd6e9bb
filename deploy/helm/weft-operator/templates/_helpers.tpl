{{/* Names and labels shared by the chart's objects. */}}
{{- define "weft-operator.fullname" -}}
{{- if contains "weft-operator" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-weft-operator" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "weft-operator.serviceAccountName" -}}
{{- default (include "weft-operator.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/*
The operator's pods must carry app.kubernetes.io/name: weft-operator: the
networks' NetworkPolicies admit exactly those pods, in the release
namespace, to the nodes' admin ports.
*/}}
{{- define "weft-operator.selectorLabels" -}}
app.kubernetes.io/name: weft-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "weft-operator.labels" -}}
{{ include "weft-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}
