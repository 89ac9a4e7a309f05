import { describe, expect, it } from 'vitest';
import { formatKeyPath, scanKeys } from './json-duplicate-keys.js';

const duplicateAt = (text: string): string | undefined => {
  JSON.parse(text); // the scan's precondition
  const found = scanKeys(text).duplicate;
  return found && formatKeyPath(found.path);
};

describe('scanKeys duplicate keys', () => {
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

describe('scanKeys element spans', () => {
  const elements = (text: string, key: string): string[] | undefined => {
    const spans = scanKeys(text, key).elementSpans;
    return spans && Array.from({ length: spans.length / 2 }, (_, i) => text.slice(spans[2 * i], spans[2 * i + 1]));
  };

  it("gives each element's exact text, whatever it holds", () => {
    const text = '{"identity":{"offers":[9]}, "offers" : [ {"a":[1,{"b":"]}"}]} , "x\\"y" ,[2,[3]] ,{} ], "z":[{"q":1}]}';
    expect(elements(text, 'offers')).toEqual(['{"a":[1,{"b":"]}"}]}', '"x\\"y"', '[2,[3]]', '{}']);
  });

  it('has no spans when the key is missing, nested only, or not an array', () => {
    expect(elements('{"identity":{"offers":[{"a":1}]}}', 'offers')).toBeUndefined();
    expect(elements('{"offers":{"a":[1]}}', 'offers')).toBeUndefined();
    expect(elements('[{"offers":[{"a":1}]}]', 'offers')).toBeUndefined();
    expect(elements('{"offers":[]}', 'offers')).toEqual([]);
  });

  it('leaves primitive elements out, so a caller can tell by the count', () => {
    expect(elements('{"offers":[{"a":1},7,null,{"b":2}]}', 'offers')).toEqual(['{"a":1}', '{"b":2}']);
  });
});
