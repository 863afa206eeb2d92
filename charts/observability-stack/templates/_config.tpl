{{/*
The components' config files. What does not depend on values is rendered by the project's TypeScript
renderers into files/ (`npm run synth`; never edited by hand); these helpers load it and add only what
depends on values, computed as the renderers compute it. test/helm-parity.test.ts compares the result with
the renderers' output for every ci/ values file.
*/}}

{{/* observability-stack.prometheus.config: prometheus.yml (lib/render/prometheus-config.ts renderKubernetesPrometheusConfig). */}}
{{- define "observability-stack.prometheus.config" -}}
{{- $p := .Values.prometheus -}}
{{- $config := dict "global" (dict
      "scrape_interval" (printf "%ds" (int $p.scrapeIntervalSeconds))
      "scrape_timeout" (printf "%ds" (int $p.scrapeTimeoutSeconds))
      "evaluation_interval" (printf "%ds" (int $p.evaluationIntervalSeconds))) -}}
{{- if $p.alertRules -}}
{{- $_ := set $config "rule_files" (list (printf "%s/*.yaml" (include "observability-stack.facts" . | fromYaml).prometheus.rulesDir)) -}}
{{- end -}}
{{- if include "observability-stack.alertmanager.enabled" . -}}
{{- $_ := set $config "alerting" (dict "alertmanagers" (list (dict "static_configs" (list (dict "targets" (list (include "observability-stack.alertmanagerAddress" .))))))) -}}
{{- end -}}
{{- $_ := set $config "scrape_configs" (include "observability-stack.prometheus.scrapeJobs" . | fromYamlArray) -}}
{{- $maxExemplars := include "observability-stack.prometheus.maxExemplars" . | int -}}
{{- $remoteWrite := list -}}
{{- range $name, $endpoint := $p.remoteWrite -}}
{{- $queue := dict "name" $name "url" $endpoint.url -}}
{{- with $endpoint.tenant }}{{ $_ := set $queue "headers" (dict (include "observability-stack.facts" $ | fromYaml).grafana.tenantHeader .) }}{{ end -}}
{{- if gt $maxExemplars 0 }}{{ $_ := set $queue "send_exemplars" true }}{{ end -}}
{{- $remoteWrite = append $remoteWrite $queue -}}
{{- end -}}
{{- if $remoteWrite -}}
{{- $_ := set $config "remote_write" $remoteWrite -}}
{{- end -}}
{{- if gt $maxExemplars 0 -}}
{{- $_ := set $config "storage" (dict "exemplars" (dict "max_exemplars" $maxExemplars)) -}}
{{- end -}}
{{- toYaml $config -}}
{{- end -}}

{{/* observability-stack.prometheus.scrapeJobs: the Kubernetes scrape jobs, a YAML list (lib/render/prometheus-config.ts kubernetesScrapeConfigs). */}}
{{- define "observability-stack.prometheus.scrapeJobs" -}}
{{- $jobs := .Files.Get "files/prometheus/scrape-configs.yaml" | fromYamlArray -}}
{{- $kubelet := .Values.kubelet | default dict -}}
{{- if include "observability-stack.kubelet.enabled" . -}}
{{- range $job := .Files.Get "files/prometheus/kubelet-scrape-configs.yaml" | fromYamlArray -}}
{{- $_ := set $job "scrape_interval" (printf "%ds" (int $kubelet.scrapeIntervalSeconds)) -}}
{{- $_ := set $job "tls_config" (ternary (dict "ca_file" $kubelet.tls.caFile) (dict "insecure_skip_verify" true) (eq (toJson $kubelet.tls.verify) "true")) -}}
{{- $jobs = append $jobs $job -}}
{{- end -}}
{{- end -}}
{{- if include "observability-stack.kubeStateMetrics.enabled" . -}}
{{- $job := .Files.Get "files/prometheus/kube-state-metrics-scrape-config.yaml" | fromYaml -}}
{{- $_ := set (index $job.kubernetes_sd_configs 0).namespaces "names" (list .Release.Namespace) -}}
{{- $jobs = append $jobs $job -}}
{{- end -}}
{{- if include "observability-stack.nodeExporter.enabled" . -}}
{{- $job := .Files.Get "files/prometheus/node-exporter-scrape-config.yaml" | fromYaml -}}
{{- $_ := set (index $job.kubernetes_sd_configs 0).namespaces "names" (list .Values.logAgent.namespace) -}}
{{- $jobs = append $jobs $job -}}
{{- end -}}
{{- toYaml $jobs -}}
{{- end -}}

{{/*
With prometheus.enabled false, the scrape jobs for a Prometheus of the user's, each stating the stack's interval and
timeout except where it has its own (the kubelet jobs' interval; lib/render/prometheus-config.ts scrapeConfigsFile).
observability-stack.prometheus.scrapeConfigsFile: those jobs, a YAML list.
*/}}
{{- define "observability-stack.prometheus.scrapeConfigsFile" -}}
{{- $p := .Values.prometheus -}}
{{- $jobs := list -}}
{{- range $job := include "observability-stack.prometheus.scrapeJobs" . | fromYamlArray -}}
{{- $jobs = append $jobs (merge $job (dict "scrape_interval" (printf "%ds" (int $p.scrapeIntervalSeconds)) "scrape_timeout" (printf "%ds" (int $p.scrapeTimeoutSeconds)))) -}}
{{- end -}}
{{- toYaml $jobs -}}
{{- end -}}

{{/*
observability-stack.prometheus.maxExemplars: prometheus.maxExemplars (0 turns exemplar storage off), or the
model's default for a release upgraded with --reuse-values from a chart without it.
*/}}
{{- define "observability-stack.prometheus.maxExemplars" -}}
{{- if hasKey .Values.prometheus "maxExemplars" -}}
{{- int .Values.prometheus.maxExemplars -}}
{{- else -}}
{{- int (include "observability-stack.facts" . | fromYaml).defaults.prometheusMaxExemplars -}}
{{- end -}}
{{- end -}}

{{/*
The block of values at a dotted path (argument: dict "root" . "path" "grafana.postgres") over the model's defaults
(files/validate/defaults.yaml), as JSON: a release upgraded with --reuse-values from a chart without the block has
only what it set.
observability-stack.overDefaults: a block of values over the model's defaults.
*/}}
{{- define "observability-stack.overDefaults" -}}
{{- $defaults := (include "observability-stack.valueAt" (dict "root" .root "path" .path "from" (.root.Files.Get "files/validate/defaults.yaml" | fromYaml)) | fromJson).v -}}
{{- $values := (include "observability-stack.valueAt" (dict "root" .root "path" .path "from" .root.Values) | fromJson).v -}}
{{- mergeOverwrite (deepCopy $defaults) ($values | default dict) | toJson -}}
{{- end -}}

{{/* observability-stack.grafana.prometheusQuery: grafana.prometheusQuery over the model's defaults, as JSON. */}}
{{- define "observability-stack.grafana.prometheusQuery" -}}
{{- include "observability-stack.overDefaults" (dict "root" . "path" "grafana.prometheusQuery") -}}
{{- end -}}

{{/* observability-stack.prometheus.scraper: prometheus.scraper (the user's Prometheus) over the model's defaults, as JSON. */}}
{{- define "observability-stack.prometheus.scraper" -}}
{{- include "observability-stack.overDefaults" (dict "root" . "path" "prometheus.scraper") -}}
{{- end -}}

{{/* observability-stack.grafana.postgres: grafana.postgres over the model's defaults, as JSON. */}}
{{- define "observability-stack.grafana.postgres" -}}
{{- include "observability-stack.overDefaults" (dict "root" . "path" "grafana.postgres") -}}
{{- end -}}

{{/* observability-stack.grafana.secretKeySecret: grafana.secretKeySecret over the model's defaults, as JSON. */}}
{{- define "observability-stack.grafana.secretKeySecret" -}}
{{- include "observability-stack.overDefaults" (dict "root" . "path" "grafana.secretKeySecret") -}}
{{- end -}}

{{/* observability-stack.grafana.several: "true" when Grafana runs several pods: grafana.replicas above 1, on PostgreSQL (lib/components/grafana.ts grafanaRunsSeveral). */}}
{{- define "observability-stack.grafana.several" -}}
{{- if and (include "observability-stack.grafana.postgres" . | fromJson).enabled (gt (int (default 1 .Values.grafana.replicas)) 1) }}true{{ end -}}
{{- end -}}

{{/* observability-stack.loki.s3: loki.storage.s3 over the model's defaults, as JSON. */}}
{{- define "observability-stack.loki.s3" -}}
{{- include "observability-stack.overDefaults" (dict "root" . "path" "loki.storage.s3") -}}
{{- end -}}

{{/* observability-stack.loki.config: loki.yaml (lib/render/loki-config.ts renderLokiConfig): the static file plus retention, the WAL replay ceiling, the bucket and the ring of several pods. */}}
{{- define "observability-stack.loki.config" -}}
{{- $config := .Files.Get "files/loki/loki.yaml" | fromYaml -}}
{{- /* With loki.replicas above 1: one ring over memberlist, each stream on up to 3 pods, each pod advertising its own address (lokiRing). */ -}}
{{- $several := gt (include "observability-stack.loki.replicas" . | int) 1 -}}
{{- $f := (include "observability-stack.facts" . | fromYaml).loki -}}
{{- if $several -}}
{{- $ring := deepCopy $f.severalRing -}}
{{- $_ := set $ring.common "replication_factor" (min 3 (include "observability-stack.loki.replicas" . | int)) -}}
{{- $_ := set $config "common" (merge $ring.common (omit $config.common "replication_factor" "ring" "instance_addr")) -}}
{{- $join := printf "dns+%s.%s.svc.%s:%d" $f.memberlistService .Release.Namespace .Values.clusterDomain (int $f.memberlistPort) -}}
{{- $_ := set $config "memberlist" (merge (dict "join_members" (list $join) "cluster_label" (printf "loki.%s" .Release.Namespace)) $ring.memberlist) -}}
{{- $_ := set $config "pattern_ingester" (merge $config.pattern_ingester $ring.pattern_ingester) -}}
{{- end -}}
{{- /* With loki.storage.s3: the bucket's client, its schema period (with several pods the only one, from the first day) and the delete requests there (lokiS3StorageConfig, lokiSchemaPeriods). */ -}}
{{- $s3 := include "observability-stack.loki.s3" . | fromJson -}}
{{- if $s3.enabled -}}
{{- $aws := dict "endpoint" $s3.endpoint "bucketnames" $s3.bucket "s3forcepathstyle" $s3.pathStyle "insecure" $s3.insecure -}}
{{- with $s3.region }}{{ $_ := set $aws "region" . }}{{ end -}}
{{- $_ := set $config "storage_config" (dict "aws" $aws) -}}
{{- $period := deepCopy $f.s3Period -}}
{{- if $several -}}
{{- $_ := set $period "from" (first $config.schema_config.configs).from -}}
{{- $_ := set $config.schema_config "configs" (list $period) -}}
{{- else -}}
{{- $_ := set $period "from" $s3.since -}}
{{- $_ := set $config.schema_config "configs" (append $config.schema_config.configs $period) -}}
{{- end -}}
{{- $_ := set $config.compactor "delete_request_store" "s3" -}}
{{- end -}}
{{- $_ := set $config.limits_config "retention_period" (printf "%dh" (mul 24 (int .Values.loki.retentionDays))) -}}
{{- /* The ingestion limits (lib/render/loki-config.ts lokiIngestionLimits); the model's defaults for a release upgraded with --reuse-values from a chart without them. */ -}}
{{- with .Values.loki.ingestionLimits | default (include "observability-stack.facts" . | fromYaml).defaults.lokiIngestionLimits }}
{{- $_ := set $config.limits_config "ingestion_rate_mb" .rateMb -}}
{{- $_ := set $config.limits_config "ingestion_burst_size_mb" .burstSizeMb -}}
{{- $_ := set $config.limits_config "per_stream_rate_limit" (printf "%dMB" (int .perStreamRateMb)) -}}
{{- $_ := set $config.limits_config "per_stream_rate_limit_burst" (printf "%dMB" (int .perStreamBurstMb)) -}}
{{- $_ := set $config.limits_config "max_line_size" (printf "%dKB" (int .maxLineSizeKb)) -}}
{{- end }}
{{- /* 75% of the memory limit in whole MB (MB = 1024 * 1024 bytes for Loki), at least 1, as lokiReplayMemoryCeiling. */ -}}
{{- $limit := include "observability-stack.bytes" .Values.loki.resources.limits.memory | atoi -}}
{{- $_ := set $config "ingester" (dict "wal" (dict "replay_memory_ceiling" (printf "%dMB" (max 1 (div (mul $limit 3) (mul 4 1048576)))))) -}}
{{- if $several }}{{ $_ := merge $config.ingester $f.severalRing.ingester }}{{ end -}}
{{- toYaml $config -}}
{{- end -}}

{{/* observability-stack.promtail.config: promtail.yaml (lib/render/promtail-config.ts renderPromtailKubernetesConfig). */}}
{{- define "observability-stack.promtail.config" -}}
{{- $config := .Files.Get "files/promtail/promtail.yaml" | fromYaml -}}
{{- $client := dict "url" (include "observability-stack.lokiPushUrl" .) -}}
{{- with include "observability-stack.lokiTenant" . }}{{ $_ := set $client "tenant_id" . }}{{ end -}}
{{- with (include "observability-stack.lokiBasicAuth" . | fromJson).username }}{{ $_ := set $client "basic_auth" (dict "username" . "password_file" (include "observability-stack.facts" $ | fromYaml).loki.passwordFile) }}{{ end -}}
{{- /* Batching and retries (lib/render/promtail-config.ts promtailClient); the model's defaults for a release upgraded with --reuse-values from a chart without them. */ -}}
{{- with .Values.logAgent.push | default (include "observability-stack.facts" . | fromYaml).defaults.logAgentPush }}
{{- $_ := set $client "batchwait" (include "observability-stack.goDuration" .batchWaitSeconds) -}}
{{- $_ := set $client "batchsize" (include "observability-stack.bytesOfMb" .batchSizeMb | int) -}}
{{- $_ := set $client "backoff_config" (dict "min_period" (include "observability-stack.goDuration" .minBackoffSeconds) "max_period" (include "observability-stack.goDuration" .maxBackoffSeconds) "max_retries" (int .attempts)) -}}
{{- end }}
{{- $_ := set $config "clients" (list $client) -}}
{{- toYaml $config -}}
{{- end -}}

{{/*
Prometheus is the one default data source; Loki's is there only with a Loki (the stack's, or loki.external with
its tenant as a header), and so is the exemplars' link to their log lines (with exemplars kept). The Prometheus version Grafana may rely on is the image tag when it is a
plain x.y.z (a leading "v" dropped), else the pinned one the file carries.
observability-stack.grafana.datasources: datasources.yaml (lib/render/grafana-provisioning.ts renderGrafanaDatasources, as lib/k8s/grafana.ts calls it).
*/}}
{{- define "observability-stack.grafana.datasources" -}}
{{- $config := .Files.Get "files/grafana/datasources.yaml" | fromYaml -}}
{{- $version := trimPrefix "v" .Values.prometheus.image.tag -}}
{{- $datasources := list -}}
{{- $store := include "observability-stack.grafana.prometheusQuery" $ | fromJson -}}
{{- range $config.datasources -}}
{{- if eq .uid "prometheus" -}}
{{- $_ := set .jsonData "timeInterval" (printf "%ds" (int $.Values.prometheus.scrapeIntervalSeconds)) -}}
{{- if $store.url -}}
{{- /* A long-term store instead (grafana.prometheusQuery): its type, no version, the tenant as a header. */ -}}
{{- $_ := set . "url" ($store.url | replace "$" "$$") -}}
{{- $_ := set .jsonData "prometheusType" $store.type -}}
{{- $_ := unset .jsonData "prometheusVersion" -}}
{{- if $store.tenant -}}
{{- $_ := set .jsonData "httpHeaderName1" (include "observability-stack.facts" $ | fromYaml).grafana.tenantHeader -}}
{{- $_ := set . "secureJsonData" (dict "httpHeaderValue1" $store.tenant) -}}
{{- end -}}
{{- else -}}
{{- $_ := set . "url" (include "observability-stack.prometheusUrl" $) -}}
{{- if regexMatch "^[0-9]+\\.[0-9]+\\.[0-9]+$" $version -}}
{{- $_ := set .jsonData "prometheusVersion" $version -}}
{{- end -}}
{{- end -}}
{{- if not (and (include "observability-stack.logs.enabled" $) (gt (include "observability-stack.prometheus.maxExemplars" $ | int) 0)) -}}
{{- $_ := unset .jsonData "exemplarTraceIdDestinations" -}}
{{- end -}}
{{- $datasources = append $datasources . -}}
{{- else if and (eq .uid "loki") (include "observability-stack.logs.enabled" $) -}}
{{- $_ := set . "url" (include "observability-stack.lokiUrl" $ | replace "$" "$$") -}}
{{- $tenant := include "observability-stack.lokiTenant" $ -}}
{{- if $tenant -}}
{{- $_ := set .jsonData "httpHeaderName1" (include "observability-stack.facts" $ | fromYaml).grafana.tenantHeader -}}
{{- $_ := set . "secureJsonData" (dict "httpHeaderValue1" $tenant) -}}
{{- end -}}
{{- /* Basic auth to a Loki of the user's: the password read from its mounted file by the provisioning's $__file{…}. */ -}}
{{- $username := (include "observability-stack.lokiBasicAuth" $ | fromJson).username -}}
{{- if $username -}}
{{- $_ := set . "basicAuth" true -}}
{{- $_ := set . "basicAuthUser" $username -}}
{{- $_ := set . "secureJsonData" (merge (dict "basicAuthPassword" (printf "$__file{%s}" (include "observability-stack.facts" $ | fromYaml).loki.passwordFile)) (default dict .secureJsonData)) -}}
{{- end -}}
{{- $datasources = append $datasources . -}}
{{- else if and (eq .uid "alertmanager") (include "observability-stack.alertmanager.enabled" $) -}}
{{- $_ := set . "url" (printf "http://%s" (include "observability-stack.alertmanagerAddress" $)) -}}
{{- $datasources = append $datasources . -}}
{{- end -}}
{{- end -}}
{{- $_ := set $config "datasources" $datasources -}}
{{- toYaml $config -}}
{{- end -}}

{{/* observability-stack.alertmanager.duration: seconds as Alertmanager writes them, whole hours, minutes or seconds (lib/render/alertmanager-config.ts duration). */}}
{{- define "observability-stack.alertmanager.duration" -}}
{{- $s := int . -}}
{{- if eq (mod $s 3600) 0 }}{{ div $s 3600 }}h{{ else if eq (mod $s 60) 0 }}{{ div $s 60 }}m{{ else }}{{ $s }}s{{ end -}}
{{- end -}}

{{/*
observability-stack.alertmanager.config: alertmanager.yml (lib/render/alertmanager-config.ts
renderAlertmanagerConfig). The file has every receiver on; this sets the timings and each receiver's
settings, and keeps only the receivers (and their routes) that are on.
*/}}
{{- define "observability-stack.alertmanager.config" -}}
{{- $a := .Values.alertmanager -}}
{{- $config := .Files.Get "files/alertmanager/alertmanager.yaml" | fromYaml -}}
{{- $_ := set $config.route "group_wait" (include "observability-stack.alertmanager.duration" $a.groupWaitSeconds) -}}
{{- $_ := set $config.route "group_interval" (include "observability-stack.alertmanager.duration" $a.groupIntervalSeconds) -}}
{{- $_ := set $config.route "repeat_interval" (include "observability-stack.alertmanager.duration" $a.repeatIntervalSeconds) -}}
{{- $receivers := list -}}
{{- range $config.receivers -}}
{{- if eq .name "null" -}}
{{- $receivers = append $receivers . -}}
{{- else if and (eq .name "webhook") $a.receivers.webhook.enabled -}}
{{- $_ := set (first .webhook_configs) "send_resolved" $a.receivers.webhook.sendResolved -}}
{{- $receivers = append $receivers . -}}
{{- else if and (eq .name "slack") $a.receivers.slack.enabled -}}
{{- $c := first .slack_configs -}}
{{- $_ := set $c "channel" $a.receivers.slack.channel -}}
{{- $_ := set $c "send_resolved" $a.receivers.slack.sendResolved -}}
{{- $receivers = append $receivers . -}}
{{- else if and (eq .name "email") $a.receivers.email.enabled -}}
{{- $e := $a.receivers.email -}}
{{- $c := first .email_configs -}}
{{- $_ := set $c "to" $e.to -}}
{{- $_ := set $c "from" $e.from -}}
{{- $_ := set $c "smarthost" $e.smarthost -}}
{{- $_ := set $c "require_tls" $e.requireTls -}}
{{- $_ := set $c "send_resolved" $e.sendResolved -}}
{{- if $e.authUsername -}}
{{- $_ := set $c "auth_username" $e.authUsername -}}
{{- else -}}
{{- $_ := unset $c "auth_username" -}}
{{- $_ := unset $c "auth_password_file" -}}
{{- end -}}
{{- $receivers = append $receivers . -}}
{{- end -}}
{{- end -}}
{{- $_ := set $config "receivers" $receivers -}}
{{- $kept := list -}}
{{- range $receivers }}{{ $kept = append $kept .name }}{{ end -}}
{{- $routes := list -}}
{{- range $config.route.routes -}}
{{- if has .receiver $kept }}{{ $routes = append $routes . }}{{ end -}}
{{- end -}}
{{- if $routes -}}
{{- $_ := set $config.route "routes" $routes -}}
{{- else -}}
{{- $_ := unset $config.route "routes" -}}
{{- end -}}
{{- toYaml $config -}}
{{- end -}}

{{/* observability-stack.grafana.dashboardProviders: dashboards.yaml, the dashboard provider (static). */}}
{{- define "observability-stack.grafana.dashboardProviders" -}}
{{- .Files.Get "files/grafana/dashboard-providers.yaml" | fromYaml | toYaml -}}
{{- end -}}

{{/* observability-stack.grafana.initScript: the script that generates Grafana's admin password once (lib/k8s/grafana.ts GRAFANA_PASSWORD_INIT_SCRIPT). */}}
{{- define "observability-stack.grafana.initScript" -}}
{{- (.Files.Get "files/grafana/init-admin-password.yaml" | fromYaml).script -}}
{{- end -}}

{{/* observability-stack.goDuration: a Go duration for a number of seconds, as lib/render/promtail-config.ts goDuration: whole seconds as "Ns", else milliseconds. */}}
{{- define "observability-stack.goDuration" -}}
{{- /* 1e3: milliseconds in a second (written so, not as the digits some component facts share). */ -}}
{{- $ms := round (mulf . 1e3) 0 | int -}}
{{- if eq (mod $ms 1e3) 0 }}{{ div $ms 1e3 }}s{{ else }}{{ $ms }}ms{{ end -}}
{{- end -}}

{{/* observability-stack.bytesOfMb: bytes of a size in MB (2^20 bytes), rounded down, as lib/render/promtail-config.ts bytesOfMb. */}}
{{- define "observability-stack.bytesOfMb" -}}
{{- floor (mulf . 1048576) | int -}}
{{- end -}}
