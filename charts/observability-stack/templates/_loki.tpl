{{/*
observability-stack.loki.replicas: loki.replicas, 1 for a release upgraded with --reuse-values from a chart
without it. Above 1 (with loki.storage.s3) Loki runs as a StatefulSet whose pods form one ring over memberlist
(lib/k8s/loki.ts); otherwise as a Deployment of one pod on the loki-data claim.
*/}}
{{- define "observability-stack.loki.replicas" -}}
{{- int (default 1 .Values.loki.replicas) -}}
{{- end -}}

{{/* observability-stack.loki.podTemplate: the pod template of Loki's Deployment or StatefulSet (the data volume is the claim loki-data, or each pod's own claim). */}}
{{- define "observability-stack.loki.podTemplate" -}}
{{- $l := .Values.loki -}}
{{- $f := (include "observability-stack.facts" . | fromYaml).loki -}}
{{- $several := gt (include "observability-stack.loki.replicas" . | int) 1 -}}
metadata:
  labels:
    {{- include "observability-stack.loki.labels" . | nindent 4 }}
    {{- with $l.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    {{- include "observability-stack.scrapeAnnotations" (dict "port" $f.httpPort "path" (include "observability-stack.facts" . | fromYaml).all.metricsPath) | nindent 4 }}
    {{- /* The ServiceAccount's annotations too: an identity webhook injects the role only into new pods, so a changed role rolls them. */}}
    checksum/config: {{ print (include (print $.Template.BasePath "/loki/configmap.yaml") .) (toJson (dig "serviceAccount" "annotations" dict $l)) | sha256sum }}
    {{- with $l.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  {{- with (include "observability-stack.podSettings" (dict "settings" $l "tolerations" true)) }}
  {{- . | nindent 2 }}
  {{- end }}
  serviceAccountName: loki
  # Loki never calls the Kubernetes API. (An identity webhook projects a token of its own for the cloud.)
  automountServiceAccountToken: false
  {{- if $several }}
  # Several pods: spread over the nodes where the scheduler can.
  topologySpreadConstraints:
    - maxSkew: 1
      topologyKey: kubernetes.io/hostname
      whenUnsatisfiable: ScheduleAnyway
      labelSelector:
        matchLabels:
          {{- include "observability-stack.loki.selectorLabels" . | nindent 10 }}
  {{- end }}
  securityContext:
    {{- include "observability-stack.podSecurityContext" (int $f.uid) | nindent 4 }}
  # Time to stop cleanly. With the WAL on (Loki's default) the ingester does not flush its in-memory
  # chunks at shutdown (ingester.wal.flush_on_shutdown is false): they are in the WAL on the volume and
  # replayed at the next start.
  terminationGracePeriodSeconds: 60
  containers:
    - name: loki
      image: {{ include "observability-stack.image" $l.image | quote }}
      imagePullPolicy: {{ $l.image.pullPolicy }}
      args:
        {{- range (ternary $f.severalArgs $f.args $several) }}
        - {{ . | quote }}
        {{- end }}
      ports:
        - name: http
          containerPort: {{ $f.httpPort }}
          protocol: TCP
        - name: grpc
          containerPort: {{ $f.grpcPort }}
          protocol: TCP
        {{- if $several }}
        - name: memberlist
          containerPort: {{ $f.memberlistPort }}
          protocol: TCP
        {{- end }}
      {{- $s3 := include "observability-stack.loki.s3" . | fromJson }}
      {{- $s3Keys := and $s3.enabled (not $s3.workloadIdentity) }}
      {{- if or $s3Keys $l.extraEnv $several }}
      env:
        {{- if $several }}
        # Several pods: each one's own address, which its loki.yaml advertises (common.instance_addr).
        - name: {{ $f.podIpVariable }}
          valueFrom:
            fieldRef:
              fieldPath: status.podIP
        {{- end }}
        {{- if $s3Keys }}
        # Loki's S3 client reads its keys from these (loki.storage.s3.credentialsSecret). With
        # loki.storage.s3.workloadIdentity there are none, and it goes on to what the cluster's identity webhook injects.
        - name: {{ $f.s3KeyVariables.accessKeyId | quote }}
          valueFrom:
            secretKeyRef:
              name: {{ $s3.credentialsSecret.name | quote }}
              key: {{ $s3.credentialsSecret.accessKeyIdKey | quote }}
        - name: {{ $f.s3KeyVariables.secretAccessKey | quote }}
          valueFrom:
            secretKeyRef:
              name: {{ $s3.credentialsSecret.name | quote }}
              key: {{ $s3.credentialsSecret.secretAccessKeyKey | quote }}
        {{- end }}
        {{- with $l.extraEnv }}
        {{- include "observability-stack.extraEnv" . | trim | nindent 8 }}
        {{- end }}
      {{- end }}
      # /ready turns 200 some 15 s after the ingester joins its ring (min_ready_duration).
      readinessProbe:
        httpGet:
          path: {{ $f.readyPath }}
          port: http
        initialDelaySeconds: 15
        periodSeconds: 10
        timeoutSeconds: 3
        failureThreshold: 3
      # Lenient: Loki has no separate liveness endpoint, and WAL replay after a crash can take a while;
      # only a Loki that stays unready for about three minutes is restarted. Several pods: whether it answers
      # at all, since /ready also waits for every other ring member to be healthy, which a restart cannot mend.
      livenessProbe:
        {{- if $several }}
        tcpSocket:
          port: http
        {{- else }}
        httpGet:
          path: {{ $f.readyPath }}
          port: http
        {{- end }}
        initialDelaySeconds: 60
        periodSeconds: 20
        timeoutSeconds: 5
        failureThreshold: 9
      resources:
        {{- include "observability-stack.resources" $l.resources | nindent 8 }}
      securityContext:
        {{- include "observability-stack.containerSecurityContext" . | nindent 8 }}
      volumeMounts:
        - name: config
          mountPath: {{ $f.configDir }}
          readOnly: true
        - name: data
          mountPath: {{ $f.dataDir }}
        # The root filesystem is read-only; the compactor's retention writes its markers in /tmp.
        - name: tmp
          mountPath: /tmp
  volumes:
    - name: config
      configMap:
        name: loki-config
    {{- if not $several }}
    - name: data
      persistentVolumeClaim:
        claimName: loki-data
    {{- end }}
    - name: tmp
      emptyDir:
        sizeLimit: 256Mi
{{- end -}}
