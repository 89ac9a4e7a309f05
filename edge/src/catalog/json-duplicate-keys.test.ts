import { describe, expect, it } from 'vitest';
import { findDuplicateKey, formatKeyPath } from './json-duplicate-keys.js';

const duplicateAt = (text: string): string | undefined => {
  JSON.parse(text); // the scan's precondition
  const found = findDuplicateKey(text);
  return found && formatKeyPath(found.path);
};

describe('findDuplicateKey', () => {
  it('finds nothing in JSON without repeated keys', () => {
    for (const text of ['{}', '[]', '"a"', '1', 'null', '{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}', '[{"k":1},{"k":1}]', '{"a":"{\\"a\\":1}","b":"\\\\","c":"\\""}']) {
      expect(duplicateAt(text), text).toBeUndefined();
    }
  });

  it('names a key repeated at the top level', () => {
    expect(duplicateAt('{"sequence":1,"audience":"x","sequence":2}')).toBe('sequence');
  });

  it('names the path of a key repeated in a nested object inside an array', () => {
    expect(duplicateAt('{"offers":[{"key":"a","path":"/x"},{"key":"b","path":"/y","path":"/z"}]}')).toBe('offers.1.path');
    expect(duplicateAt('{"o":[[1,2],{"q":{"r":1,"r":2}}]}')).toBe('o.1.q.r');
  });

  it('compares keys after unescaping', () => {
    expect(duplicateAt('{"path":1,"\\u0070ath":2}')).toBe('path');
    expect(duplicateAt('{"a\\"b":1,"a\\u0022b":2}')).toBe('a"b');
  });

  it('finds a repeat in an object with many keys as in a small one', () => {
    const many = Array.from({ length: 40 }, (_, i) => `"k${i}":${i}`);
    expect(duplicateAt(`{${many.join(',')}}`)).toBeUndefined();
    expect(duplicateAt(`{${many.join(',')},"k3":0}`)).toBe('k3');
    expect(duplicateAt(`{"x":{${many.join(',')},"k39":0}}`)).toBe('x.k39');
  });

  it('is not fooled by keys inside string values or by whitespace', () => {
    expect(duplicateAt('{ "a" : "\\"a\\":1" , "b" : { "a" : 1 } }')).toBeUndefined();
    expect(duplicateAt('{\n  "a": 1,\n  "b": [ "a", "a" ],\n  "a": 3\n}')).toBe('a');
  });
});
