{{/*
The DaemonSet both node log agents share (lib/k8s/node-log-agent.ts in the cdk8s rendering): one pod per node,
control-plane nodes included, reading the kubelet's log files from /var/log/pods and keeping its read
positions in a host directory.

It is the one workload that cannot meet Pod Security "restricted" (nor "baseline"): reading the kubelet's log
files needs hostPath volumes and uid 0. It therefore lives in its own "privileged" namespace and relaxes
exactly those two things; everything else stays locked down.

Takes a dict: context (the root context), name ("promtail" or "alloy": objects, labels helpers, the
ConfigMap <name>-config in templates/<name>/configmap.yaml), agent (its values: image, resources), port,
args, readyPath (readiness, and leniently liveness), configDir (where the ConfigMap is mounted), positions
(volume, hostPath, mountPath).
*/}}

{{/* observability-stack.logAgent.daemonSet: the node log agent's DaemonSet, for promtail/ and alloy/. */}}
{{- define "observability-stack.logAgent.daemonSet" -}}
{{- $ctx := .context -}}
{{- $p := .agent -}}
{{- $s := $ctx.Values.logAgent -}}
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: {{ .name }}
  namespace: {{ $ctx.Values.logAgent.namespace }}
  labels:
    {{- include (printf "observability-stack.%s.labels" .name) $ctx | nindent 4 }}
spec:
  selector:
    matchLabels:
      {{- include (printf "observability-stack.%s.selectorLabels" .name) $ctx | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include (printf "observability-stack.%s.labels" .name) $ctx | nindent 8 }}
        {{- with $s.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      # Prometheus's pod job discovers every namespace, this one included.
      annotations:
        {{- include "observability-stack.scrapeAnnotations" (dict "port" .port "path" (include "observability-stack.facts" $ctx | fromYaml).all.metricsPath) | nindent 8 }}
        checksum/config: {{ include (printf "%s/%s/configmap.yaml" $ctx.Template.BasePath .name) $ctx | sha256sum }}
        {{- with $s.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- with (include "observability-stack.podSettings" (dict "settings" $s "tolerations" false)) }}
      {{- . | nindent 6 }}
      {{- end }}
      serviceAccountName: {{ .name }}
      automountServiceAccountToken: true
      # No priorityClassName by default (logAgent.priorityClassName sets one): system-node-critical is meant
      # for what keeps a node working, and a log agent
      # is not that; it would also evict workloads to make room on a full node.
      securityContext:
        # Relaxed: uid 0, because the kubelet writes container logs as root:root 0640
        # (kubernetes/kubernetes#124349); as the files' owner, uid 0 reads them with no capability.
        runAsUser: 0
        runAsGroup: 0
        # Relaxed: follows from uid 0.
        runAsNonRoot: false
        seccompProfile:
          type: RuntimeDefault
      tolerations:
        # Control-plane nodes run pods too (all of them, on kind): collect their logs as well.
        - key: node-role.kubernetes.io/control-plane
          operator: Exists
          effect: NoSchedule
        - key: node-role.kubernetes.io/master
          operator: Exists
          effect: NoSchedule
        {{- with $s.tolerations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      terminationGracePeriodSeconds: 30
      containers:
        - name: {{ .name }}
          image: {{ include "observability-stack.image" $p.image | quote }}
          imagePullPolicy: {{ $p.image.pullPolicy }}
          args:
            {{- range .args }}
            - {{ . | quote }}
            {{- end }}
          env:
            # Each agent selects this node's pods by it (Promtail also tails only targets whose __host__ equals it).
            - name: HOSTNAME
              valueFrom:
                fieldRef:
                  fieldPath: spec.nodeName
            {{- with $s.extraEnv }}
            {{- include "observability-stack.extraEnv" . | trim | nindent 12 }}
            {{- end }}
          ports:
            - name: http
              containerPort: {{ .port }}
              protocol: TCP
          readinessProbe:
            httpGet:
              path: {{ .readyPath }}
              port: http
            initialDelaySeconds: 10
            periodSeconds: 10
            timeoutSeconds: 3
            failureThreshold: 5
          # Lenient: restart only an agent that has stayed unready for about five minutes (lost API watch,
          # unreadable mounts). Positions are on the host, so a restart loses nothing.
          livenessProbe:
            httpGet:
              path: {{ .readyPath }}
              port: http
            initialDelaySeconds: 60
            periodSeconds: 30
            timeoutSeconds: 5
            failureThreshold: 10
          resources:
            {{- include "observability-stack.resources" $p.resources | nindent 12 }}
          # Kept whole: no privilege escalation, read-only root, ALL capabilities dropped and none added.
          securityContext:
            {{- include "observability-stack.containerSecurityContext" $ctx | nindent 12 }}
          volumeMounts:
            - name: config
              mountPath: {{ .configDir }}
              readOnly: true
            # Relaxed: hostPath, read-only: the kubelet's container logs (CRI format).
            - name: pods
              mountPath: {{ (include "observability-stack.facts" $ctx | fromYaml).host.podLogsDir }}
              readOnly: true
            # Relaxed: hostPath, read-write: the positions outlive the pod, so a restarted or upgraded agent
            # continues where it stopped. The only writable host path.
            - name: {{ .positions.volume }}
              mountPath: {{ .positions.mountPath }}
            - name: tmp
              mountPath: /tmp
            {{- /* A Loki of the user's behind basic auth: the password its config names (password_file). */}}
            {{- with include "observability-stack.lokiPassword.mount" $ctx | trim }}{{ . | nindent 12 }}{{ end }}
      volumes:
        - name: config
          configMap:
            name: {{ .name }}-config
        - name: pods
          hostPath:
            path: {{ (include "observability-stack.facts" $ctx | fromYaml).host.podLogsDir }}
            type: Directory
        - name: {{ .positions.volume }}
          hostPath:
            path: {{ .positions.hostPath }}
            type: DirectoryOrCreate
        # The root filesystem is read-only; a Go library's temp file should not crash it.
        - name: tmp
          emptyDir:
            sizeLimit: 16Mi
        {{- with include "observability-stack.lokiPassword.volume" $ctx | trim }}{{ . | nindent 8 }}{{ end }}
{{- end -}}
