import { describe, expect, it } from 'vitest';
import { isSmuggledPath } from './path-guard.js';

describe('isSmuggledPath', () => {
  it.each([
    '/services/foo%2F..%2Fbar',
    '/services/foo%2fbar',
    '/services/foo%5Cbar',
    '/services/foo%5c..%5cbar',
    '/services/foo/%2e%2e/bar',
    '/services/foo/%2E./bar',
    '/services/foo/.%2e',
    '/services/foo/%2e/bar',
    '/services/%2E%2E',
    '/services/foo//bar',
    '/services//foo',
    '/services/foo/bar//',
    '/services/foo;x/bar',
    '/services/foo/..;/bar',
    '/services/foo/bar;jsessionid=1',
    '/services/foo%3bx/bar',
    '/services/foo/../bar',
    '/services/foo/./bar',
    '/services/foo/..',
  ])('refuses %s', (path) => {
    expect(isSmuggledPath(path)).toBe(true);
  });

  it.each([
    '/services/foo',
    '/services/foo/v1/chat',
    '/services/foo/a%20b',
    '/services/foo/file.%2ejson',
    '/services/foo/%2e%2e%2e',
    '/services/foo/...',
    '/services/foo/%252F',
    '/services/foo/',
    '/services/foo/.well-known/x',
    '/services/foo/v1.2/..x',
  ])('lets %s through', (path) => {
    expect(isSmuggledPath(path)).toBe(false);
  });
});
