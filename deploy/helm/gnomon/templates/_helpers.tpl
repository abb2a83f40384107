{{/*
Shared pieces of the chart. The functions the templates use are kept to a small set,
listed in deploy/helm/README.md and checked by tests/unit/deploy/test_helm_chart.py.
*/}}

{{/* The objects' name prefix: the release's name, with "-gnomon" unless it says gnomon. */}}
{{- define "gnomon.fullname" -}}
{{- if contains "gnomon" .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-gnomon" .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "gnomon.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* Labels that never change: a Deployment's selector is immutable. ctx, component. */}}
{{- define "gnomon.selector" -}}
app.kubernetes.io/name: gnomon
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "gnomon.labels" -}}
{{ include "gnomon.selector" . }}
app.kubernetes.io/part-of: gnomon
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version }}
{{- end -}}

{{/*
The restricted Pod Security Standard: non-root, no token unless a service account is named
(a cloud's identity webhook needs it), the runtime's seccomp profile.
*/}}
{{- define "gnomon.podSecurity" -}}
{{- if .Values.serviceAccount.name -}}
serviceAccountName: {{ .Values.serviceAccount.name | quote }}
automountServiceAccountToken: true
{{- else -}}
automountServiceAccountToken: false
{{- end }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  fsGroup: 10001
  seccompProfile:
    type: RuntimeDefault
{{- end -}}

{{/* A read-only root: gnomon writes only to its home and /tmp, both emptyDir. */}}
{{- define "gnomon.containerSecurity" -}}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: ["ALL"]
volumeMounts:
  - name: gnomon-home
    mountPath: /var/lib/gnomon
  - name: tmp
    mountPath: /tmp
{{- end -}}

{{- define "gnomon.volumes" -}}
volumes:
  - name: gnomon-home
    emptyDir: {}
  - name: tmp
    emptyDir: {}
{{- end -}}

{{/* The metadata database and the online store: the server, the worker, the migrations. */}}
{{- define "gnomon.databaseEnv" -}}
- name: GNOMON_URI
  valueFrom:
    secretKeyRef:
      name: {{ required "database.existingSecret: name the Secret holding the database URI" .Values.database.existingSecret | quote }}
      key: {{ .Values.database.uriKey | quote }}
{{- if .Values.redis.existingSecret }}
- name: GNOMON_ONLINE_STORE
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.existingSecret | quote }}
      key: {{ .Values.redis.uriKey | quote }}
{{- end }}
{{- end -}}

{{/*
The artifact store, for every pod. botocore reads the region from AWS_DEFAULT_REGION, other
SDKs from AWS_REGION: both come from the Secret's AWS_REGION. The keys may be missing from
the Secret when the service account brings credentials.
*/}}
{{- define "gnomon.storageEnv" -}}
{{- $secret := .Values.artifacts.existingSecret -}}
{{- $keysOptional := not (empty .Values.serviceAccount.name) -}}
- name: GNOMON_HOME
  value: /var/lib/gnomon
- name: GNOMON_ARTIFACTS
  value: {{ .Values.artifacts.uri | quote }}
{{- if $secret }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef: {name: {{ $secret | quote }}, key: AWS_ACCESS_KEY_ID, optional: {{ $keysOptional }}}
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef: {name: {{ $secret | quote }}, key: AWS_SECRET_ACCESS_KEY, optional: {{ $keysOptional }}}
- name: AWS_REGION
  valueFrom:
    secretKeyRef: {name: {{ $secret | quote }}, key: AWS_REGION, optional: true}
- name: AWS_DEFAULT_REGION
  valueFrom:
    secretKeyRef: {name: {{ $secret | quote }}, key: AWS_REGION, optional: true}
- name: GNOMON_S3_ENDPOINT_URL
  valueFrom:
    secretKeyRef: {name: {{ $secret | quote }}, key: GNOMON_S3_ENDPOINT_URL, optional: true}
{{- end }}
{{- end -}}

{{/*
Every gnomon process logs JSON lines for Filebeat or Fluent Bit (deploy/elk/).
*/}}
{{- define "gnomon.logEnv" -}}
- name: GNOMON_LOG_FORMAT
  value: {{ .Values.logs.format | quote }}
- name: GNOMON_LOG_LEVEL
  value: {{ .Values.logs.level | quote }}
{{- end -}}

{{- define "gnomon.serverUrl" -}}
{{- printf "http://%s-server:%v" (include "gnomon.fullname" .) .Values.server.service.port -}}
{{- end -}}
