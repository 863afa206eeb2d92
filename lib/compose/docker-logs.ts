/**
 * How the log agents read Docker's json-file logs on one host: the mount of the host's containers
 * directory, and the one fix-up both agents' pipelines need.
 */
import { DOCKER_CONTAINERS_DIR } from '../image-facts';

/**
 * The compose variable naming the host's side of that mount: rootless Docker keeps its containers in
 * `$HOME/.local/share/docker/containers`, and a custom `data-root` in `<data-root>/containers`.
 */
export const DOCKER_CONTAINERS_DIR_VARIABLE = 'DOCKER_CONTAINERS_DIR';

/**
 * The log agents' read-only mount of Docker's container logs: the host directory from DOCKER_CONTAINERS_DIR
 * (default: Docker's own /var/lib/docker/containers), always at DOCKER_CONTAINERS_DIR inside.
 */
export function dockerContainersMount(): string {
  return `\${${DOCKER_CONTAINERS_DIR_VARIABLE}:-${DOCKER_CONTAINERS_DIR}}:${DOCKER_CONTAINERS_DIR}:ro`;
}

/**
 * The newline (CRLF too) at the end of a json-file `log` field, as a capture group: the `replace` stage of
 * either agent replaces it with nothing (an empty `replace` removes the captured text).
 */
export const DOCKER_TRAILING_NEWLINE = '(\\r?\\n)$';
