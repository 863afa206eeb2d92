{{/*
Helpers of the observability-stack chart. Object names are the stack model's stable names (prometheus,
grafana, loki, promtail, the app's name), not prefixed with the release name: they are API (Grafana's data
sources, the log agent's push URL and dashboards refer to them), exactly as in the cdk8s rendering. So one
release per namespace; see the README.
*/}}

{{/* observability-stack.name: the chart's name, cut to 63 characters (the limit of a label value). */}}
{{- define "observability-stack.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* observability-stack.chart: the helm.sh/chart label, "<name>-<version>", cut to 63 characters. */}}
{{- define "observability-stack.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* observability-stack.fullname: an object name from a component's stable name (the argument), cut to 63 characters. */}}
{{- define "observability-stack.fullname" -}}
{{- . | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* observability-stack.clusterName: a cluster-scoped object's name, "<namespace>-<component>", so releases in different namespaces do not collide. Args: dict "namespace" "name". */}}
{{- define "observability-stack.clusterName" -}}
{{- printf "%s-%s" .namespace .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* observability-stack.selectorLabels: labels that select a component's pods, stable across upgrades (no version). Args: dict "name" "context". */}}
{{- define "observability-stack.selectorLabels" -}}
app.kubernetes.io/name: {{ .name | quote }}
app.kubernetes.io/instance: {{ .context.Release.Name | quote }}
app.kubernetes.io/part-of: {{ include "observability-stack.name" .context | quote }}
{{- end -}}

{{/* observability-stack.labels: a component's metadata labels: its selector labels plus component, version (its image tag), manager and chart. Args: dict "name" "component" "version" "context". */}}
{{- define "observability-stack.labels" -}}
{{ include "observability-stack.selectorLabels" . }}
app.kubernetes.io/component: {{ .component | quote }}
app.kubernetes.io/version: {{ .version | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .context.Release.Service | quote }}
helm.sh/chart: {{ include "observability-stack.chart" .context | quote }}
{{- with .context.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* observability-stack.namespaceLabels: labels of a Namespace the chart creates: the stack's, its component and its Pod Security level. Args: dict "component" "level" "context". */}}
{{- define "observability-stack.namespaceLabels" -}}
app.kubernetes.io/instance: {{ .context.Release.Name | quote }}
app.kubernetes.io/part-of: {{ include "observability-stack.name" .context | quote }}
app.kubernetes.io/component: {{ .component | quote }}
app.kubernetes.io/managed-by: {{ .context.Release.Service | quote }}
helm.sh/chart: {{ include "observability-stack.chart" .context | quote }}
{{ include "observability-stack.podSecurityLabels" .level }}
{{- with .context.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
observability-stack.podSettings: a component's pod-level settings for its pod spec (nodeSelector,
tolerations, affinity, priorityClassName, imagePullSecrets), as lib/k8s/pod-settings.ts applies them.
Args: dict "settings" (the component's values block) "tolerations" (false where the template writes
tolerations of its own and appends the settings' itself).
*/}}
{{- define "observability-stack.podSettings" -}}
{{- $s := .settings -}}
{{- with $s.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if and .tolerations $s.tolerations }}
tolerations:
  {{- toYaml $s.tolerations | nindent 2 }}
{{- end }}
{{- with $s.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $s.priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- with $s.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . | quote }}
  {{- end }}
{{- end }}
{{- end -}}

{{/* observability-stack.extraEnv: a component's extraEnv as env entries, by name (lib/k8s/pod-settings.ts). Arg: the map. */}}
{{- define "observability-stack.extraEnv" -}}
{{- range $name, $value := . }}
- name: {{ $name | quote }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{/* observability-stack.podSecurityLabels: labels that enforce, warn and audit on a Pod Security level (the argument). */}}
{{- define "observability-stack.podSecurityLabels" -}}
pod-security.kubernetes.io/enforce: {{ . }}
pod-security.kubernetes.io/enforce-version: latest
pod-security.kubernetes.io/warn: {{ . }}
pod-security.kubernetes.io/warn-version: latest
pod-security.kubernetes.io/audit: {{ . }}
pod-security.kubernetes.io/audit-version: latest
{{- end -}}

{{/* observability-stack.prometheus.labels: metadata labels of Prometheus's objects. */}}
{{- define "observability-stack.prometheus.labels" -}}
{{ include "observability-stack.labels" (dict "name" "prometheus" "component" "metrics" "version" .Values.prometheus.image.tag "context" .) }}
{{- end -}}

{{/* observability-stack.prometheus.selectorLabels: labels that select Prometheus's pod. */}}
{{- define "observability-stack.prometheus.selectorLabels" -}}
{{ include "observability-stack.selectorLabels" (dict "name" "prometheus" "context" .) }}
{{- end -}}

{{/* observability-stack.loki.labels: metadata labels of Loki's objects. */}}
{{- define "observability-stack.loki.labels" -}}
{{ include "observability-stack.labels" (dict "name" "loki" "component" "logs" "version" .Values.loki.image.tag "context" .) }}
{{- end -}}

{{/* observability-stack.loki.selectorLabels: labels that select Loki's pod. */}}
{{- define "observability-stack.loki.selectorLabels" -}}
{{ include "observability-stack.selectorLabels" (dict "name" "loki" "context" .) }}
{{- end -}}

{{/* observability-stack.alertmanager.labels: metadata labels of Alertmanager's objects. */}}
{{- define "observability-stack.alertmanager.labels" -}}
{{ include "observability-stack.labels" (dict "name" "alertmanager" "component" "alerting" "version" .Values.alertmanager.image.tag "context" .) }}
{{- end -}}

{{/* observability-stack.alertmanager.selectorLabels: labels that select Alertmanager's pod. */}}
{{- define "observability-stack.alertmanager.selectorLabels" -}}
{{ include "observability-stack.selectorLabels" (dict "name" "alertmanager" "context" .) }}
{{- end -}}

{{/* observability-stack.alertmanager.enabled: "true" when Alertmanager is deployed; a release upgraded with --reuse-values from a chart without the alertmanager block has none. */}}
{{- define "observability-stack.alertmanager.enabled" -}}
{{- if (.Values.alertmanager | default dict).enabled }}true{{ end -}}
{{- end -}}

{{/* observability-stack.componentEnabled: "true" when the component named .name (a generated file's dependsOn: prometheus (the stack's own), loki (lines shipped to a Loki), lokiMetrics (the stack's own Loki), alertmanager, kubeStateMetrics, kubelet, nodeExporter) is on. */}}
{{- define "observability-stack.componentEnabled" -}}
{{- if eq .name "loki" }}{{ include "observability-stack.logs.enabled" .context }}
{{- else if eq .name "lokiMetrics" }}{{ if .context.Values.loki.enabled }}true{{ end }}
{{- else if eq .name "prometheus" }}{{ include "observability-stack.prometheus.enabled" .context }}
{{- else if eq .name "alertmanager" }}{{ include "observability-stack.alertmanager.enabled" .context }}
{{- /* With the stack's rules only: the app rule is one (the rule file itself is absent without them). */}}
{{- else if eq .name "kubeStateMetrics" }}{{ if and (include "observability-stack.kubeStateMetrics.enabled" .context) .context.Values.prometheus.alertRules }}true{{ end }}
{{- else if eq .name "kubelet" }}{{ include "observability-stack.kubelet.enabled" .context }}
{{- else if eq .name "nodeExporter" }}{{ include "observability-stack.nodeExporter.enabled" .context }}
{{- else }}{{ fail (printf "observability-stack.componentEnabled: no component %q" .name) }}
{{- end -}}
{{- end -}}

{{/* observability-stack.logs.enabled: "true" when the log agent ships lines: to the stack's Loki, or to loki.external.url (lib/components/loki.ts shipsLogs). */}}
{{- define "observability-stack.logs.enabled" -}}
{{- if or .Values.loki.enabled (.Values.loki.external | default dict).url }}true{{ end -}}
{{- end -}}

{{/* observability-stack.prometheus.enabled: "true" when the stack's Prometheus is deployed (prometheus.enabled, absent in a release upgraded with --reuse-values from a chart without it: on). */}}
{{- define "observability-stack.prometheus.enabled" -}}
{{- if ne (toJson .Values.prometheus.enabled) "false" }}true{{ end -}}
{{- end -}}

{{/* observability-stack.kubeStateMetrics.enabled: "true" when kube-state-metrics is deployed; a release upgraded with --reuse-values from a chart without the kubeStateMetrics block has none. */}}
{{- define "observability-stack.kubeStateMetrics.enabled" -}}
{{- if (.Values.kubeStateMetrics | default dict).enabled }}true{{ end -}}
{{- end -}}

{{/* observability-stack.nodeExporter.enabled: "true" when node-exporter is deployed (none in a release upgraded with --reuse-values from a chart without the nodeExporter block). */}}
{{- define "observability-stack.nodeExporter.enabled" -}}
{{- if (.Values.nodeExporter | default dict).enabled }}true{{ end -}}
{{- end -}}

{{/* observability-stack.nodeExporter.labels: metadata labels of node-exporter's objects. */}}
{{- define "observability-stack.nodeExporter.labels" -}}
{{ include "observability-stack.labels" (dict "name" "node-exporter" "component" "exporter" "version" .Values.nodeExporter.image.tag "context" .) }}
{{- end -}}

{{/* observability-stack.nodeExporter.selectorLabels: labels that select node-exporter's pods. */}}
{{- define "observability-stack.nodeExporter.selectorLabels" -}}
{{ include "observability-stack.selectorLabels" (dict "name" "node-exporter" "context" .) }}
{{- end -}}

{{/* observability-stack.kubelet.enabled: "true" when Prometheus scrapes the kubelets (none in a release upgraded with --reuse-values from a chart without the kubelet block). */}}
{{- define "observability-stack.kubelet.enabled" -}}
{{- if (.Values.kubelet | default dict).enabled }}true{{ end -}}
{{- end -}}

{{/* observability-stack.kubeStateMetrics.labels: metadata labels of kube-state-metrics' objects. */}}
{{- define "observability-stack.kubeStateMetrics.labels" -}}
{{ include "observability-stack.labels" (dict "name" "kube-state-metrics" "component" "exporter" "version" .Values.kubeStateMetrics.image.tag "context" .) }}
{{- end -}}

{{/* observability-stack.kubeStateMetrics.selectorLabels: labels that select kube-state-metrics' pod. */}}
{{- define "observability-stack.kubeStateMetrics.selectorLabels" -}}
{{ include "observability-stack.selectorLabels" (dict "name" "kube-state-metrics" "context" .) }}
{{- end -}}

{{/* observability-stack.promtail.labels: metadata labels of Promtail's objects. */}}
{{- define "observability-stack.promtail.labels" -}}
{{ include "observability-stack.labels" (dict "name" "promtail" "component" "log-agent" "version" .Values.logAgent.promtail.image.tag "context" .) }}
{{- end -}}

{{/* observability-stack.promtail.selectorLabels: labels that select Promtail's pods. */}}
{{- define "observability-stack.promtail.selectorLabels" -}}
{{ include "observability-stack.selectorLabels" (dict "name" "promtail" "context" .) }}
{{- end -}}

{{/* observability-stack.alloy.labels: metadata labels of Alloy's objects. */}}
{{- define "observability-stack.alloy.labels" -}}
{{ include "observability-stack.labels" (dict "name" "alloy" "component" "log-agent" "version" .Values.logAgent.alloy.image.tag "context" .) }}
{{- end -}}

{{/* observability-stack.alloy.selectorLabels: labels that select Alloy's pods. */}}
{{- define "observability-stack.alloy.selectorLabels" -}}
{{ include "observability-stack.selectorLabels" (dict "name" "alloy" "context" .) }}
{{- end -}}

{{/* observability-stack.grafana.labels: metadata labels of Grafana's objects. */}}
{{- define "observability-stack.grafana.labels" -}}
{{ include "observability-stack.labels" (dict "name" "grafana" "component" "dashboards" "version" .Values.grafana.image.tag "context" .) }}
{{- end -}}

{{/* observability-stack.grafana.selectorLabels: labels that select Grafana's pod. */}}
{{- define "observability-stack.grafana.selectorLabels" -}}
{{ include "observability-stack.selectorLabels" (dict "name" "grafana" "context" .) }}
{{- end -}}

{{/* observability-stack.app.name: the demo app's object name. */}}
{{- define "observability-stack.app.name" -}}
{{- include "observability-stack.fullname" .Values.app.name -}}
{{- end -}}

{{/* observability-stack.app.labels: metadata labels of the demo app's objects. */}}
{{- define "observability-stack.app.labels" -}}
{{ include "observability-stack.labels" (dict "name" (include "observability-stack.app.name" .) "component" "application" "version" .Values.app.image.tag "context" .) }}
{{- end -}}

{{/* observability-stack.app.selectorLabels: labels that select the demo app's pods. */}}
{{- define "observability-stack.app.selectorLabels" -}}
{{ include "observability-stack.selectorLabels" (dict "name" (include "observability-stack.app.name" .) "context" .) }}
{{- end -}}

{{/* observability-stack.traffic.name: the traffic generator's object name, "<app>-traffic". */}}
{{- define "observability-stack.traffic.name" -}}
{{- include "observability-stack.fullname" (printf "%s-traffic" .Values.app.name) -}}
{{- end -}}

{{/* observability-stack.traffic.labels: metadata labels of the traffic generator's objects. */}}
{{- define "observability-stack.traffic.labels" -}}
{{ include "observability-stack.labels" (dict "name" (include "observability-stack.traffic.name" .) "component" "traffic-generator" "version" .Values.app.image.tag "context" .) }}
{{- end -}}

{{/* observability-stack.traffic.selectorLabels: labels that select the traffic generator's pod. */}}
{{- define "observability-stack.traffic.selectorLabels" -}}
{{ include "observability-stack.selectorLabels" (dict "name" (include "observability-stack.traffic.name" .) "context" .) }}
{{- end -}}

{{/* observability-stack.image: "repository:tag", or "repository:tag@digest" when a digest is set. Arg: an image block of the values. */}}
{{- define "observability-stack.image" -}}
{{- if .digest -}}
{{- printf "%s:%s@%s" .repository .tag .digest -}}
{{- else -}}
{{- printf "%s:%s" .repository .tag -}}
{{- end -}}
{{- end -}}

{{/* observability-stack.resources: a container's requests and limits. Arg: a resources block of the values. */}}
{{- define "observability-stack.resources" -}}
requests:
  cpu: {{ .requests.cpu | quote }}
  memory: {{ .requests.memory | quote }}
limits:
  cpu: {{ .limits.cpu | quote }}
  memory: {{ .limits.memory | quote }}
{{- end -}}

{{/* observability-stack.podSecurityContext: a pod security context that meets Pod Security restricted for a fixed non-root uid (the argument), also its gid and fsGroup. */}}
{{- define "observability-stack.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ . }}
runAsGroup: {{ . }}
fsGroup: {{ . }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* observability-stack.containerSecurityContext: read-only root, no privilege escalation, every capability dropped. */}}
{{- define "observability-stack.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* observability-stack.scrapeAnnotations: annotations that ask Prometheus's pod job to scrape a pod. Args: dict "port" "path". */}}
{{- define "observability-stack.scrapeAnnotations" -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ printf "%d" (int .port) | quote }}
prometheus.io/path: {{ .path | quote }}
{{- end -}}

{{/*
observability-stack.facts: each component's runtime facts (ports, uids, paths, flags, probe paths), generated
from lib/components/ into files/components.yaml. Use: (include "observability-stack.facts" . | fromYaml).loki
*/}}
{{- define "observability-stack.facts" -}}
{{- .Files.Get "files/components.yaml" -}}
{{- end -}}

{{/*
observability-stack.testsImage: the image of the helm test pods, as JSON: tests.image, or (a release of chart
0.1.0 upgraded with --reuse-values has no tests block) the pinned Prometheus image from files/components.yaml.
*/}}
{{- define "observability-stack.testsImage" -}}
{{- (dig "image" (include "observability-stack.facts" . | fromYaml).testsImage (default dict .Values.tests)) | toJson -}}
{{- end -}}

{{/* observability-stack.rulesDir: the folder under files/prometheus/ holding the rule file that applies (lib/render/alert-rules.ts RULES_DEPEND_ON). */}}
{{- define "observability-stack.rulesDir" -}}
rules/{{ include "observability-stack.variant" (dict "dependsOn" (list "alertmanager" "kubeStateMetrics" "kubelet" "nodeExporter") "context" .) }}
{{- end -}}

{{/*
observability-stack.variant: the name of the variant of a generated file for the components .dependsOn it
depends on: those switched on, joined by "-", or "none" (lib/render/variants.ts variantName).
*/}}
{{- define "observability-stack.variant" -}}
{{- $on := list -}}
{{- range $component := .dependsOn -}}
{{- if include "observability-stack.componentEnabled" (dict "name" $component "context" $.context) -}}
{{- $on = append $on $component -}}
{{- end -}}
{{- end -}}
{{- ternary (join "-" $on) "none" (gt (len $on) 0) -}}
{{- end -}}

{{/* observability-stack.alertmanagerAddress: Alertmanager's in-cluster host:port (Prometheus's alerting section). */}}
{{- define "observability-stack.alertmanagerAddress" -}}
{{- printf "alertmanager.%s.svc.%s:%d" .Release.Namespace .Values.clusterDomain (int (include "observability-stack.facts" . | fromYaml).alertmanager.port) -}}
{{- end -}}

{{/* observability-stack.prometheusUrl: in-cluster URL of Prometheus (Grafana's default data source). */}}
{{- define "observability-stack.prometheusUrl" -}}
{{- printf "http://prometheus.%s.svc.%s:%d" .Release.Namespace .Values.clusterDomain (int (include "observability-stack.facts" . | fromYaml).prometheus.port) -}}
{{- end -}}

{{/* observability-stack.lokiUrl: base URL of the Loki Grafana reads and the agent ships to: the stack's, in the cluster, or loki.external.url. */}}
{{- define "observability-stack.lokiUrl" -}}
{{- if .Values.loki.enabled -}}
{{- printf "http://loki.%s.svc.%s:%d" .Release.Namespace .Values.clusterDomain (int (include "observability-stack.facts" . | fromYaml).loki.httpPort) -}}
{{- else -}}
{{- (.Values.loki.external | default dict).url -}}
{{- end -}}
{{- end -}}

{{/* observability-stack.lokiTenant: the tenant sent to that Loki as X-Scope-OrgID (loki.external.tenant); "" for the stack's own. */}}
{{- define "observability-stack.lokiTenant" -}}
{{- if not .Values.loki.enabled }}{{ (.Values.loki.external | default dict).tenant | default "" }}{{ end -}}
{{- end -}}

{{/* observability-stack.lokiBasicAuth: loki.external.basicAuth as JSON ({} for the stack's own Loki, or without a user): the user, and the Secret and key of the password. */}}
{{- define "observability-stack.lokiBasicAuth" -}}
{{- $auth := dig "external" "basicAuth" dict .Values.loki -}}
{{- if and (not .Values.loki.enabled) $auth.username -}}
{{- dict "username" $auth.username "secretName" (dig "passwordSecret" "name" "" $auth) "secretKey" (dig "passwordSecret" "key" "password" $auth) | toJson -}}
{{- else -}}
{{- dict | toJson -}}
{{- end -}}
{{- end -}}

{{/*
The Secret volume and mount of that password (lib/k8s/util.ts lokiPasswordVolume), readable by its owner (root:
the log agent) and the pod's fsGroup (Grafana) only; nothing without basic auth.
observability-stack.lokiPassword.volume: the pod's volume.
*/}}
{{- define "observability-stack.lokiPassword.volume" -}}
{{- $auth := include "observability-stack.lokiBasicAuth" . | fromJson -}}
{{- if $auth.username }}
- name: loki-password
  secret:
    secretName: {{ $auth.secretName | quote }}
    items:
      - key: {{ $auth.secretKey | quote }}
        path: {{ base (include "observability-stack.facts" . | fromYaml).loki.passwordFile }}
    defaultMode: 288 # 0440 in octal
{{- end }}
{{- end -}}

{{/* observability-stack.lokiPassword.mount: the container's mount of that volume. */}}
{{- define "observability-stack.lokiPassword.mount" -}}
{{- if (include "observability-stack.lokiBasicAuth" . | fromJson).username }}
- name: loki-password
  mountPath: {{ dir (include "observability-stack.facts" . | fromYaml).loki.passwordFile }}
  readOnly: true
{{- end }}
{{- end -}}

{{/* observability-stack.lokiPushUrl: Loki's push URL, fully qualified because the log agent runs in another namespace. */}}
{{- define "observability-stack.lokiPushUrl" -}}
{{- printf "%s%s" (include "observability-stack.lokiUrl" .) (include "observability-stack.facts" . | fromYaml).loki.pushPath -}}
{{- end -}}

{{/* observability-stack.appUrl: in-cluster URL of the demo app (the traffic generator's target). */}}
{{- define "observability-stack.appUrl" -}}
{{- printf "http://%s.%s.svc.%s:%d" (include "observability-stack.app.name" .) .Values.app.namespace .Values.clusterDomain (int .Values.app.port) -}}
{{- end -}}

{{/* observability-stack.grafanaPasswordCommand: the one command that prints Grafana's admin password (lib/k8s/grafana.ts grafanaAdminPasswordCommand). */}}
{{- define "observability-stack.grafanaPasswordCommand" -}}
{{- $secret := .Values.grafana.adminPasswordSecret -}}
{{- if $secret.name -}}
kubectl -n {{ .Release.Namespace }} get secret {{ $secret.name }} -o jsonpath='{.data.{{ $secret.key | replace "." "\\." }}}' | base64 -d
{{- else -}}
kubectl -n {{ .Release.Namespace }} exec deploy/grafana -c grafana -- cat {{ (include "observability-stack.facts" . | fromYaml).grafana.adminPasswordFile }}
{{- end -}}
{{- end -}}

{{/* observability-stack.operatorApi: "true" when the cluster serves the Prometheus Operator's API (monitoring.coreos.com/v1), else "". */}}
{{- define "observability-stack.operatorApi" -}}
{{- if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" -}}true{{- end -}}
{{- end -}}

{{/* observability-stack.networkPolicies.enabled: "true" when the chart creates NetworkPolicies (none in a release upgraded with --reuse-values from a chart without the networkPolicies block). */}}
{{- define "observability-stack.networkPolicies.enabled" -}}
{{- if (.Values.networkPolicies | default dict).enabled }}true{{ end -}}
{{- end -}}

{{/*
observability-stack.networkPolicyPeer: where a client of the stack runs, as JSON {namespace, name, external (the user's Prometheus)}, or "" when it
is not deployed (lib/network-access.ts ingressPolicies). Args: dict "client" (prometheus, grafana or logAgent) "context".
*/}}
{{- define "observability-stack.networkPolicyPeer" -}}
{{- $v := .context.Values -}}
{{- if eq .client "prometheus" -}}
{{- if include "observability-stack.prometheus.enabled" .context -}}
{{- dict "namespace" .context.Release.Namespace "name" "prometheus" | toJson -}}
{{- else -}}
{{- /* A Prometheus of the user's (prometheus.scraper): its pods by their name alone, not the stack's labels. */ -}}
{{- with include "observability-stack.prometheus.scraper" .context | fromJson }}{{ if .namespace }}{{ dict "namespace" .namespace "name" .name "external" true | toJson }}{{ end }}{{ end -}}
{{- end -}}
{{- else if eq .client "grafana" -}}
{{- if $v.grafana.enabled }}{{ dict "namespace" .context.Release.Namespace "name" "grafana" | toJson }}{{ end -}}
{{- else if eq .client "logAgent" -}}
{{- if include "observability-stack.logs.enabled" .context }}{{ dict "namespace" $v.logAgent.namespace "name" (ternary "alloy" "promtail" (eq $v.logAgent.kind "alloy")) | toJson }}{{ end -}}
{{- else -}}
{{- fail (printf "observability-stack.networkPolicyPeer: no client %q" .client) -}}
{{- end -}}
{{- end -}}

{{/*
A component's ingress NetworkPolicy (lib/k8s/network-policies.ts): its pods, its TCP port, and who may open it:
.from is "anyone" or a list of clients (files/components.yaml ingressFrom), those not deployed left out;
.extraPeers adds {namespace, name} pairs. With no client at all, no rule for them (a rule with an empty `from`
would let anyone in). .peerPorts (optional): {port, protocol} open to the component's own pods, a second rule.
observability-stack.networkPolicy: args dict "name" "namespace" "labels" "port" "from" "extraPeers" "peerPorts" "context".
*/}}
{{- define "observability-stack.networkPolicy" -}}
{{- $ctx := .context -}}
{{- $rule := dict "ports" (list (dict "protocol" "TCP" "port" (int .port))) -}}
{{- $ingress := list $rule -}}
{{- if ne (toString .from) "anyone" -}}
{{- $peers := .extraPeers | default list -}}
{{- range $client := .from -}}
{{- with include "observability-stack.networkPolicyPeer" (dict "client" $client "context" $ctx) -}}
{{- $peers = append $peers (fromJson .) -}}
{{- end -}}
{{- end -}}
{{- $from := list -}}
{{- range $peer := $peers -}}
{{- $podLabels := ternary (dict "app.kubernetes.io/name" $peer.name) (include "observability-stack.selectorLabels" (dict "name" $peer.name "context" $ctx) | fromYaml) (eq (toJson $peer.external) "true") -}}
{{- $from = append $from (dict
      "namespaceSelector" (dict "matchLabels" (dict "kubernetes.io/metadata.name" $peer.namespace))
      "podSelector" (dict "matchLabels" $podLabels)) -}}
{{- end -}}
{{- $_ := set $rule "from" $from -}}
{{- if eq (len $from) 0 }}{{ $ingress = list }}{{ end -}}
{{- end -}}
{{- with .peerPorts -}}
{{- $ports := list -}}
{{- range . }}{{ $ports = append $ports (dict "protocol" .protocol "port" (int .port)) }}{{ end -}}
{{- $ingress = append $ingress (dict "from" (list (dict "podSelector" (dict "matchLabels" (include "observability-stack.selectorLabels" (dict "name" $.name "context" $ctx) | fromYaml)))) "ports" $ports) -}}
{{- end -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ .name }}
  namespace: {{ .namespace }}
  labels:
    {{- .labels | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "observability-stack.selectorLabels" (dict "name" .name "context" $ctx) | nindent 6 }}
  policyTypes:
    - Ingress
  ingress: {{- if $ingress }}{{ $ingress | toYaml | nindent 4 }}{{ else }} []{{ end }}
{{- end -}}

{{/*
observability-stack.defaultDenyPolicy: the default deny of ingress in one of the stack's namespaces
(lib/k8s/network-policies.ts), selecting this release's pods only: the namespace's other pods keep their
traffic. Each component's networkpolicy.yaml then lets in exactly its clients. Args: dict "namespace" "context".
*/}}
{{- define "observability-stack.defaultDenyPolicy" -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-ingress
  namespace: {{ .namespace }}
  labels:
    {{- include "observability-stack.labels" (dict "name" "network-policy" "component" "network-policy" "version" .context.Chart.AppVersion "context" .context) | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/instance: {{ .context.Release.Name | quote }}
      app.kubernetes.io/part-of: {{ include "observability-stack.name" .context | quote }}
  policyTypes:
    - Ingress
{{- end -}}
