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
{{- $_ := set $config "scrape_configs" (.Files.Get "files/prometheus/scrape-configs.yaml" | fromYamlArray) -}}
{{- $remoteWrite := list -}}
{{- range $name, $endpoint := $p.remoteWrite -}}
{{- $remoteWrite = append $remoteWrite (dict "name" $name "url" $endpoint.url) -}}
{{- end -}}
{{- if $remoteWrite -}}
{{- $_ := set $config "remote_write" $remoteWrite -}}
{{- end -}}
{{- toYaml $config -}}
{{- end -}}

{{/* observability-stack.loki.config: loki.yaml (lib/render/loki-config.ts renderLokiConfig): the static file plus retention and the WAL replay ceiling. */}}
{{- define "observability-stack.loki.config" -}}
{{- $config := .Files.Get "files/loki/loki.yaml" | fromYaml -}}
{{- $_ := set $config.limits_config "retention_period" (printf "%dh" (mul 24 (int .Values.loki.retentionDays))) -}}
{{- /* 75% of the memory limit in whole MB (MB = 1024 * 1024 bytes for Loki), at least 1, as lokiReplayMemoryCeiling. */ -}}
{{- $limit := include "observability-stack.bytes" .Values.loki.resources.limits.memory | atoi -}}
{{- $_ := set $config "ingester" (dict "wal" (dict "replay_memory_ceiling" (printf "%dMB" (max 1 (div (mul $limit 3) (mul 4 1048576)))))) -}}
{{- toYaml $config -}}
{{- end -}}

{{/* observability-stack.promtail.config: promtail.yaml (lib/render/promtail-config.ts renderPromtailKubernetesConfig). */}}
{{- define "observability-stack.promtail.config" -}}
{{- $config := .Files.Get "files/promtail/promtail.yaml" | fromYaml -}}
{{- $_ := set $config "clients" (list (dict "url" (include "observability-stack.lokiPushUrl" .))) -}}
{{- toYaml $config -}}
{{- end -}}

{{/*
observability-stack.grafana.datasources: datasources.yaml (lib/render/grafana-provisioning.ts
renderGrafanaDatasources, as lib/k8s/grafana.ts calls it). Prometheus is the one default data source; Loki's
is there only with Loki. The Prometheus version Grafana may rely on is the image tag when it is a plain
x.y.z (a leading "v" dropped), else the pinned one the file carries.
*/}}
{{- define "observability-stack.grafana.datasources" -}}
{{- $config := .Files.Get "files/grafana/datasources.yaml" | fromYaml -}}
{{- $version := trimPrefix "v" .Values.prometheus.image.tag -}}
{{- $datasources := list -}}
{{- range $config.datasources -}}
{{- if eq .uid "prometheus" -}}
{{- $_ := set . "url" (include "observability-stack.prometheusUrl" $) -}}
{{- $_ := set .jsonData "timeInterval" (printf "%ds" (int $.Values.prometheus.scrapeIntervalSeconds)) -}}
{{- if regexMatch "^[0-9]+\\.[0-9]+\\.[0-9]+$" $version -}}
{{- $_ := set .jsonData "prometheusVersion" $version -}}
{{- end -}}
{{- $datasources = append $datasources . -}}
{{- else if and (eq .uid "loki") $.Values.loki.enabled -}}
{{- $_ := set . "url" (include "observability-stack.lokiUrl" $) -}}
{{- $datasources = append $datasources . -}}
{{- end -}}
{{- end -}}
{{- $_ := set $config "datasources" $datasources -}}
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
