/** A kubeconfig for a loopback stand-in of the API server, authenticating with a bearer token. */
export function kubeconfigYaml(server: string, token = 'test-token'): string {
  return [
    'apiVersion: v1', 'kind: Config', 'current-context: test',
    // Plain HTTP on loopback: the client refuses http:// unless TLS verification is explicitly off.
    'clusters: [{name: test, cluster: {server: "' + server + '", insecure-skip-tls-verify: true}}]',
    'users: [{name: test, user: {token: ' + token + '}}]',
    'contexts: [{name: test, context: {cluster: test, user: test}}]', '',
  ].join('\n');
}
