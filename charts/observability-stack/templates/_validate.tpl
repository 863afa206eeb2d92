{{/*
The stack model's rules across settings, which values.schema.json cannot express: the one table of
lib/validate-stack.ts, generated into files/validate/rules.yaml. Each problem is worded as the model words
it: the setting, the rule, the value.
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

{{/*
observability-stack.valueAt: the value at a dotted path of the values, as JSON {"v": …} (include returns
text); "namespace" is the release namespace, as the chart has no such value. Args: dict "root" "path" "from"
(the values to read: the release's, or the chart's defaults).
*/}}
{{- define "observability-stack.valueAt" -}}
{{- if eq .path "namespace" -}}
{{- dict "v" .root.Release.Namespace | toJson -}}
{{- else -}}
{{- $v := .from -}}
{{- range $key := splitList "." .path -}}
{{- $v = ternary (index (default dict $v) $key) nil (kindIs "map" $v) -}}
{{- end -}}
{{- dict "v" $v | toJson -}}
{{- end -}}
{{- end -}}

{{/* observability-stack.shown: a value as the model's messages show it (strings quoted), " (the default)" when it is the chart's default (files/validate/defaults.yaml, values.yaml's values). Args: dict "root" "path" "v". */}}
{{- define "observability-stack.shown" -}}
{{- if kindIs "float64" .v }}{{ printf "%v" .v }}{{ else }}{{ toJson .v }}{{ end -}}
{{- if ne .path "namespace" -}}
{{- $default := (include "observability-stack.valueAt" (dict "root" .root "path" .path "from" (.root.Files.Get "files/validate/defaults.yaml" | fromYaml)) | fromJson).v -}}
{{- if eq (toJson $default) (toJson .v) }} (the default){{ end -}}
{{- end -}}
{{- end -}}

{{/*
observability-stack.validate: applies the model's rules across settings, the table of lib/validate-stack.ts
generated into files/validate/rules.yaml, row by row with the model's words; fails listing every broken
rule, renders nothing when all hold.
*/}}
{{- define "observability-stack.validate" -}}
{{- $root := . -}}
{{- $problems := list -}}
{{- /*
A release upgraded with --reuse-values from a chart without prometheus.enabled runs the stack's Prometheus, as the
templates do (observability-stack.prometheus.enabled). Other blocks such a release lacks stay absent: the templates
read a missing alertmanager, kubelet, kubeStateMetrics, nodeExporter or networkPolicies block as off.
*/ -}}
{{- $values := deepCopy .Values -}}
{{- if not (hasKey $values.prometheus "enabled") }}{{ $_ := set $values.prometheus "enabled" true }}{{ end -}}
{{- range $r := (.Files.Get "files/validate/rules.yaml" | fromYaml).rules -}}
{{- $at := dict "root" $root "from" $values -}}
{{- if eq $r.kind "atMost" -}}
{{- $v := (include "observability-stack.valueAt" (merge (dict "path" $r.setting) $at) | fromJson).v -}}
{{- $limit := (include "observability-stack.valueAt" (merge (dict "path" $r.limit) $at) | fromJson).v -}}
{{- $on := or (not $r.when) (eq (toJson (include "observability-stack.valueAt" (merge (dict "path" (default "" $r.when)) $at) | fromJson).v) "true") -}}
{{- if and $on (gt (float64 $v) (float64 $limit)) -}}
{{- $problems = append $problems (printf "%s must be at most %s (%v)%s, got %s" $r.setting $r.limit $limit (ternary (printf ", %s" $r.why) "" (not (empty $r.why))) (include "observability-stack.shown" (dict "root" $root "path" $r.setting "v" $v))) -}}
{{- end -}}
{{- else if eq $r.kind "smallerThan" -}}
{{- $v := (include "observability-stack.valueAt" (merge (dict "path" $r.setting) $at) | fromJson).v -}}
{{- $limit := (include "observability-stack.valueAt" (merge (dict "path" $r.limit) $at) | fromJson).v -}}
{{- if ge (include "observability-stack.bytes" $v | atoi) (include "observability-stack.bytes" $limit | atoi) -}}
{{- $problems = append $problems (printf "%s must be smaller than %s (%s), %s, got %s" $r.setting $r.limit $limit $r.why (include "observability-stack.shown" (dict "root" $root "path" $r.setting "v" $v))) -}}
{{- end -}}
{{- else if eq $r.kind "differsFrom" -}}
{{- $v := (include "observability-stack.valueAt" (merge (dict "path" $r.setting) $at) | fromJson).v -}}
{{- $clash := false -}}
{{- $named := list -}}
{{- range $o := $r.others -}}
{{- $ov := (include "observability-stack.valueAt" (merge (dict "path" $o) $at) | fromJson).v -}}
{{- if eq (toJson $ov) (toJson $v) }}{{ $clash = true }}{{ end -}}
{{- $named = append $named (printf "%s (%v)" $o $ov) -}}
{{- end -}}
{{- if $clash -}}
{{- $problems = append $problems (printf "%s must differ from %s: %s, got %s" $r.setting (join " and " $named) $r.why (include "observability-stack.shown" (dict "root" $root "path" $r.setting "v" $v))) -}}
{{- end -}}
{{- else if eq $r.kind "requestsWithinLimits" -}}
{{- range $path := ($root.Files.Get "files/validate/resource-settings.yaml" | fromYaml).settings -}}
{{- $res := (include "observability-stack.valueAt" (merge (dict "path" $path) $at) | fromJson).v -}}
{{- /* A block a release upgraded with --reuse-values from an older chart does not have (alertmanager before 0.3.0) is not deployed. */ -}}
{{- if $res -}}
{{- if gt (include "observability-stack.millicores" $res.requests.cpu | atoi) (include "observability-stack.millicores" $res.limits.cpu | atoi) -}}
{{- $problems = append $problems (printf "%s.requests.cpu must be at most %s.limits.cpu (%s), got %s" $path $path $res.limits.cpu (include "observability-stack.shown" (dict "root" $root "path" (printf "%s.requests.cpu" $path) "v" $res.requests.cpu))) -}}
{{- end -}}
{{- if gt (include "observability-stack.bytes" $res.requests.memory | atoi) (include "observability-stack.bytes" $res.limits.memory | atoi) -}}
{{- $problems = append $problems (printf "%s.requests.memory must be at most %s.limits.memory (%s), got %s" $path $path $res.limits.memory (include "observability-stack.shown" (dict "root" $root "path" (printf "%s.requests.memory" $path) "v" $res.requests.memory))) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- else if eq $r.kind "notKeys" -}}
{{- $map := default dict (include "observability-stack.valueAt" (merge (dict "path" $r.setting) $at) | fromJson).v -}}
{{- range $key := $r.keys -}}
{{- if hasKey $map $key -}}
{{- $shownKey := ternary $key (printf "[%s]" (toJson $key)) (regexMatch "^[A-Za-z_][A-Za-z0-9_]*$" $key) -}}
{{- $sep := ternary "." "" (regexMatch "^[A-Za-z_][A-Za-z0-9_]*$" $key) -}}
{{- $problems = append $problems (printf "%s%s%s must not be set: %s, got %s" $r.setting $sep $shownKey $r.why (toJson (get $map $key))) -}}
{{- end -}}
{{- end -}}
{{- else if eq $r.kind "disjointKeys" -}}
{{- $map := default dict (include "observability-stack.valueAt" (merge (dict "path" $r.setting) $at) | fromJson).v -}}
{{- $other := default dict (include "observability-stack.valueAt" (merge (dict "path" $r.other) $at) | fromJson).v -}}
{{- range $key := keys $map | sortAlpha -}}
{{- if hasKey $other $key -}}
{{- $shownKey := ternary $key (printf "[%s]" (toJson $key)) (regexMatch "^[A-Za-z_][A-Za-z0-9_]*$" $key) -}}
{{- $sep := ternary "." "" (regexMatch "^[A-Za-z_][A-Za-z0-9_]*$" $key) -}}
{{- $problems = append $problems (printf "%s%s%s must not repeat a key of %s: %s, got %s" $r.setting $sep $shownKey $r.other $r.why (toJson (get $map $key))) -}}
{{- end -}}
{{- end -}}
{{- else if eq $r.kind "requiresSet" -}}
{{- $v := (include "observability-stack.valueAt" (merge (dict "path" $r.setting) $at) | fromJson).v -}}
{{- $needed := (include "observability-stack.valueAt" (merge (dict "path" $r.requires) $at) | fromJson).v -}}
{{- /* when: one switch, or a list of switches that must all be on. */ -}}
{{- $on := true -}}
{{- range $w := ternary (list $r.when) $r.when (kindIs "string" $r.when) -}}
{{- if and $w (ne (toJson (include "observability-stack.valueAt" (merge (dict "path" $w) $at) | fromJson).v) "true") }}{{ $on = false }}{{ end -}}
{{- end -}}
{{- $excused := and $r.unless (eq (toJson (include "observability-stack.valueAt" (merge (dict "path" (default "" $r.unless)) $at) | fromJson).v) "true") -}}
{{- if and $on (not $excused) (or (eq (toJson $v) "true") (and (kindIs "string" $v) (ne $v ""))) (not $needed) -}}
{{- $problems = append $problems (printf "%s needs %s set (%s), got %s" $r.setting $r.requires $r.why (include "observability-stack.shown" (dict "root" $root "path" $r.setting "v" $v))) -}}
{{- end -}}
{{- else if eq $r.kind "requires" -}}
{{- $v := (include "observability-stack.valueAt" (merge (dict "path" $r.setting) $at) | fromJson).v -}}
{{- $needed := (include "observability-stack.valueAt" (merge (dict "path" $r.requires) $at) | fromJson).v -}}
{{- if and (eq (toJson $v) "true") (ne (toJson $needed) "true") -}}
{{- $problems = append $problems (printf "%s needs %s: true (%s), got %s" $r.setting $r.requires $r.why (include "observability-stack.shown" (dict "root" $root "path" $r.setting "v" $v))) -}}
{{- end -}}
{{- else if eq $r.kind "singleUnless" -}}
{{- $v := (include "observability-stack.valueAt" (merge (dict "path" $r.setting) $at) | fromJson).v -}}
{{- $unless := (include "observability-stack.valueAt" (merge (dict "path" $r.unless) $at) | fromJson).v -}}
{{- $on := or (not $r.when) (eq (toJson (include "observability-stack.valueAt" (merge (dict "path" (default "" $r.when)) $at) | fromJson).v) "true") -}}
{{- if and $on (gt (float64 (default 1 $v)) 1.0) (ne (toJson $unless) "true") -}}
{{- $problems = append $problems (printf "%s must be 1 unless %s is true (%s), got %s" $r.setting $r.unless $r.why (include "observability-stack.shown" (dict "root" $root "path" $r.setting "v" $v))) -}}
{{- end -}}
{{- else if eq $r.kind "unsetWhile" -}}
{{- $v := (include "observability-stack.valueAt" (merge (dict "path" $r.setting) $at) | fromJson).v -}}
{{- $switch := (include "observability-stack.valueAt" (merge (dict "path" $r.while) $at) | fromJson).v -}}
{{- if and $v (eq (toJson $switch) "true") -}}
{{- $problems = append $problems (printf "%s must be empty while %s is true (%s), got %s" $r.setting $r.while $r.why (include "observability-stack.shown" (dict "root" $root "path" $r.setting "v" $v))) -}}
{{- end -}}
{{- else if eq $r.kind "unsetUnless" -}}
{{- $v := (include "observability-stack.valueAt" (merge (dict "path" $r.setting) $at) | fromJson).v -}}
{{- $switch := (include "observability-stack.valueAt" (merge (dict "path" $r.unless) $at) | fromJson).v -}}
{{- if and $v (ne (toJson $switch) "true") -}}
{{- $problems = append $problems (printf "%s must be empty unless %s is true (%s), got %s" $r.setting $r.unless $r.why (include "observability-stack.shown" (dict "root" $root "path" $r.setting "v" $v))) -}}
{{- end -}}
{{- else -}}
{{- fail (printf "files/validate/rules.yaml: no such kind of rule %q (update templates/_validate.tpl with lib/validate-stack.ts)" $r.kind) -}}
{{- end -}}
{{- end -}}
{{- if $problems -}}
{{- fail (printf "\nInvalid values:\n  - %s" (join "\n  - " $problems)) -}}
{{- end -}}
{{- end -}}
