{{/*
The stack model's rules across settings (lib/config.ts), which values.schema.json cannot express. Each
problem is worded as the model words it: the setting, the rule, the value.
*/}}

{{/* observability-stack.millicores: millicores of a CPU quantity ("100m" → 100, "1" → 1000, "0.5" → 500). */}}
{{- define "observability-stack.millicores" -}}
{{- if hasSuffix "m" . -}}
{{- trimSuffix "m" . | atoi -}}
{{- else -}}
{{- printf "%d" (int (round (mulf (float64 .) 1000) 0)) -}}
{{- end -}}
{{- end -}}

{{/* observability-stack.bytes: bytes of a binary quantity ("256Mi") or a Prometheus size ("4GB"; powers of 1024 too). */}}
{{- define "observability-stack.bytes" -}}
{{- $units := dict "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 "MB" 1048576 "GB" 1073741824 "TB" 1099511627776 -}}
{{- $number := regexReplaceAll "^([0-9]+)([A-Za-z]+)$" . "${1}" -}}
{{- $unit := regexReplaceAll "^([0-9]+)([A-Za-z]+)$" . "${2}" -}}
{{- printf "%d" (mul (atoi $number) (get $units $unit)) -}}
{{- end -}}

{{/* observability-stack.validate: fails listing every broken rule; renders nothing when all hold. */}}
{{- define "observability-stack.validate" -}}
{{- $problems := list -}}
{{- $p := .Values.prometheus -}}
{{- if gt (int $p.scrapeTimeoutSeconds) (int $p.scrapeIntervalSeconds) -}}
{{- $problems = append $problems (printf "prometheus.scrapeTimeoutSeconds must be at most prometheus.scrapeIntervalSeconds (%d), got %d" (int $p.scrapeIntervalSeconds) (int $p.scrapeTimeoutSeconds)) -}}
{{- end -}}
{{- if ge (include "observability-stack.bytes" $p.retentionSize | atoi) (include "observability-stack.bytes" $p.storage.size | atoi) -}}
{{- $problems = append $problems (printf "prometheus.retentionSize must be smaller than prometheus.storage.size (%s), so old blocks are deleted before the volume fills, got %q" $p.storage.size $p.retentionSize) -}}
{{- end -}}
{{- if or (eq .Values.logAgent.namespace .Release.Namespace) (eq .Values.logAgent.namespace .Values.app.namespace) -}}
{{- $problems = append $problems (printf "logAgent.namespace must differ from the release namespace (%s) and app.namespace: the agent's namespace is Pod Security \"privileged\", the others stay \"restricted\", got %q" .Release.Namespace .Values.logAgent.namespace) -}}
{{- end -}}
{{- /* Every requests/limits block of the values: the list is generated from the model (files/validate/). */ -}}
{{- range $path := (.Files.Get "files/validate/resource-settings.yaml" | fromYaml).settings -}}
{{- $r := $.Values -}}
{{- range $key := splitList "." $path -}}
{{- $r = index $r $key -}}
{{- end -}}
{{- if gt (include "observability-stack.millicores" $r.requests.cpu | atoi) (include "observability-stack.millicores" $r.limits.cpu | atoi) -}}
{{- $problems = append $problems (printf "%s.requests.cpu must be at most %s.limits.cpu (%s), got %q" $path $path $r.limits.cpu $r.requests.cpu) -}}
{{- end -}}
{{- if gt (include "observability-stack.bytes" $r.requests.memory | atoi) (include "observability-stack.bytes" $r.limits.memory | atoi) -}}
{{- $problems = append $problems (printf "%s.requests.memory must be at most %s.limits.memory (%s), got %q" $path $path $r.limits.memory $r.requests.memory) -}}
{{- end -}}
{{- end -}}
{{- /* Pod settings: no selector label keys, no environment the stack sets itself (files/validate/pod-settings.yaml). */ -}}
{{- $pod := .Files.Get "files/validate/pod-settings.yaml" | fromYaml -}}
{{- range $key := $pod.selectorLabelKeys -}}
{{- if hasKey $.Values.commonLabels $key -}}
{{- $problems = append $problems (printf "commonLabels[%q] must not be set: the stack's selectors use it, got %q" $key (get $.Values.commonLabels $key)) -}}
{{- end -}}
{{- end -}}
{{- range $component, $reserved := $pod.reservedEnv -}}
{{- $block := index $.Values $component -}}
{{- range $key := $pod.selectorLabelKeys -}}
{{- if hasKey $block.podLabels $key -}}
{{- $problems = append $problems (printf "%s.podLabels[%q] must not be set: the selectors use it, got %q" $component $key (get $block.podLabels $key)) -}}
{{- end -}}
{{- end -}}
{{- range $name := $reserved -}}
{{- if hasKey $block.extraEnv $name -}}
{{- $problems = append $problems (printf "%s.extraEnv.%s must not be set: the stack sets %s itself, got %q" $component $name $name (get $block.extraEnv $name)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and .Values.app.serviceMonitor.enabled (not .Values.app.enabled) -}}
{{- $problems = append $problems "app.serviceMonitor.enabled needs app.enabled: true (there is no app to monitor), got true" -}}
{{- end -}}
{{- if $problems -}}
{{- fail (printf "\nInvalid values:\n  - %s" (join "\n  - " $problems)) -}}
{{- end -}}
{{- end -}}
