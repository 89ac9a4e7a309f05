import { describe, expect, it } from 'vitest';
import { KUBERNETES_VERSION } from './binaries.js';
import { controlPlane, testNamespace } from './fixture.js';

/** The harness itself: the pinned release answers, RBAC is enforced, tokens are signed, the garbage collector runs. */

const { plane, skip } = controlPlane();

describe.skipIf(!plane)(`real control plane${skip ? ` (${skip})` : ''}`, () => {
  const cp = plane!;

  it('serves the pinned Kubernetes release with the Gateway API and ServiceOffer CRDs established', async () => {
    const version = JSON.parse((await cp.mustKubectl(['version', '-o', 'json'])).stdout) as { serverVersion: { gitVersion: string }; clientVersion: { gitVersion: string } };
    expect(version.serverVersion.gitVersion).toBe(KUBERNETES_VERSION);
    expect(version.clientVersion.gitVersion).toBe(KUBERNETES_VERSION);
    const crds = (await cp.mustKubectl(['get', 'crd', '-o', 'name'])).stdout.split('\n');
    expect(crds).toEqual(expect.arrayContaining(['customresourcedefinition.apiextensions.k8s.io/serviceoffers.obol.org', 'customresourcedefinition.apiextensions.k8s.io/httproutes.gateway.networking.k8s.io', 'customresourcedefinition.apiextensions.k8s.io/gateways.gateway.networking.k8s.io']));
  });

  it('a ServiceAccount token authenticates, and RBAC forbids what no rule grants', async () => {
    const ns = testNamespace('harness');
    await cp.mustKubectl(['create', 'namespace', ns]);
    await cp.mustKubectl(['create', 'serviceaccount', 'nobody', '-n', ns]);
    const kubeconfig = await cp.serviceAccountKubeconfig(ns, 'nobody');
    const whoami = await cp.mustKubectl(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { kubeconfig });
    expect(whoami.stdout).toBe(`system:serviceaccount:${ns}:nobody`);
    const denied = await cp.kubectl(['get', 'serviceoffers', '-n', ns], { kubeconfig });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain(`User "system:serviceaccount:${ns}:nobody" cannot list resource "serviceoffers" in API group "obol.org" in the namespace "${ns}"`);
    await cp.mustKubectl(['delete', 'namespace', ns, '--wait=false']);
  });

  it('the garbage collector deletes an object whose owner is gone', async () => {
    const ns = testNamespace('harness');
    await cp.mustKubectl(['create', 'namespace', ns]);
    await cp.mustKubectl(['create', 'configmap', 'owner', '-n', ns]);
    const uid = (await cp.mustKubectl(['get', 'configmap', 'owner', '-n', ns, '-o', 'jsonpath={.metadata.uid}'])).stdout;
    const dependent = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dependent', namespace: ns, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid }] } };
    await cp.mustKubectl(['apply', '-f', '-'], { input: JSON.stringify(dependent) });
    await cp.mustKubectl(['delete', 'configmap', 'owner', '-n', ns]);
    await cp.mustKubectl(['wait', '--for=delete', 'configmap/dependent', '-n', ns, '--timeout=60s']);
    await cp.mustKubectl(['delete', 'namespace', ns, '--wait=false']);
  });
});
