{{/* Names and labels. */}}
{{- define "taskward.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "taskward.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "taskward.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "taskward.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "taskward.selectorLabels" -}}
app.kubernetes.io/name: {{ include "taskward.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "taskward.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "taskward.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: controller
{{- end -}}

{{- define "taskward.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "taskward.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "taskward.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/*
taskward.secretFiles: every secret the controller reads, as {volume, secret, items:
[{key, flag, path}]}, for the Secrets that are set. Each is mounted read-only under
/var/run/secrets/taskward/VOLUME/ and its file passed to the controller's --*-file flag:
secrets never travel in args or environment.
*/}}
{{- define "taskward.secretFiles" -}}
{{- $v := .Values -}}
{{- $all := list
  (dict "volume" "git-token" "ref" $v.git.token "items" (list (dict "key" $v.git.token.key "flag" "--git-token-file")))
  (dict "volume" "git-ssh" "ref" $v.git.ssh "items" (list (dict "key" $v.git.ssh.privateKeyKey "flag" "--git-ssh-key") (dict "key" $v.git.ssh.knownHostsKey "flag" "--git-known-hosts")))
  (dict "volume" "git-ca" "ref" $v.git.ca "items" (list (dict "key" $v.git.ca.key "flag" "--git-ca-file")))
  (dict "volume" "github-webhook-secret" "ref" $v.webhooks.github.secret "items" (list (dict "key" $v.webhooks.github.secret.key "flag" "--github-webhook-secret-file")))
  (dict "volume" "github-token" "ref" $v.webhooks.github.token "items" (list (dict "key" $v.webhooks.github.token.key "flag" "--github-token-file")))
  (dict "volume" "gitlab-webhook-token" "ref" $v.webhooks.gitlab.secret "items" (list (dict "key" $v.webhooks.gitlab.secret.key "flag" "--gitlab-webhook-token-file")))
  (dict "volume" "gitlab-token" "ref" $v.webhooks.gitlab.token "items" (list (dict "key" $v.webhooks.gitlab.token.key "flag" "--gitlab-token-file")))
  (dict "volume" "events-token" "ref" $v.events.token "items" (list (dict "key" $v.events.token.key "flag" "--events-token-file")))
  (dict "volume" "alert-webhook-url" "ref" $v.alerts.webhookURL "items" (list (dict "key" $v.alerts.webhookURL.key "flag" "--alert-webhook-url-file")))
  (dict "volume" "slack-webhook-url" "ref" $v.alerts.slackWebhookURL "items" (list (dict "key" $v.alerts.slackWebhookURL.key "flag" "--slack-webhook-url-file")))
-}}
files:
{{- range $all }}
{{- if .ref.existingSecret }}
{{- $vol := .volume }}
  - volume: {{ .volume }}
    secret: {{ .ref.existingSecret }}
    items:
    {{- range .items }}
      - key: {{ .key | quote }}
        flag: {{ .flag }}
        path: {{ printf "/var/run/secrets/taskward/%s/%s" $vol .key | quote }}
    {{- end }}
{{- end }}
{{- end }}
{{- end -}}
