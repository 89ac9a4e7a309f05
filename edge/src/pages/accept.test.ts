import { describe, expect, it } from 'vitest';
import { acceptQuality, HTML_TYPE, JSON_TYPE, preferredType, prefersHtml } from './accept.js';

const BROWSERS = {
  chromium: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7',
  firefox: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  safari: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
};

describe('prefersHtml', () => {
  it('is true for what browsers send when they navigate', () => {
    for (const [name, accept] of Object.entries(BROWSERS)) expect(prefersHtml(accept), name).toBe(true);
    expect(prefersHtml('text/html')).toBe(true);
    expect(prefersHtml('application/json;q=0.5, text/html')).toBe(true);
    expect(prefersHtml('text/*')).toBe(true);
    expect(prefersHtml('TEXT/HTML')).toBe(true);
  });

  it('is false for machine clients: curl and fetch (*/*), JSON, no header, and ties', () => {
    for (const accept of [undefined, null, '', '   ', '*/*', 'application/json', 'application/json, text/plain, */*', 'text/html, application/json', '*/*;q=0.8, text/html;q=0.8', 'image/png']) {
      expect(prefersHtml(accept), String(accept)).toBe(false);
    }
  });

  it('gives each type the quality of the most specific range that matches it, not the highest q in the header', () => {
    expect(acceptQuality('text/html;q=0.1, */*', HTML_TYPE)).toBe(0.1);
    expect(acceptQuality('text/html;q=0.1, */*', JSON_TYPE)).toBe(1);
    expect(prefersHtml('text/html;q=0.1, */*')).toBe(false);
    expect(prefersHtml('text/*;q=0.9, text/html;q=0, */*;q=0.1')).toBe(false);
    expect(acceptQuality('text/*;q=0.3, */*;q=0.9', HTML_TYPE)).toBe(0.3);
    expect(acceptQuality('application/json', HTML_TYPE)).toBe(0);
  });

  it('reads q-values with parameters, spaces and odd spellings', () => {
    expect(acceptQuality('text/html ; level=1 ; q=0.4 , */* ; q=0.2', HTML_TYPE)).toBe(0.4);
    expect(prefersHtml('application/json;q=0, text/html;q=0.001')).toBe(true);
    expect(prefersHtml('text/html;q=0')).toBe(false);
    expect(prefersHtml(',,text/html,,')).toBe(true);
  });

  it('decides on an 8 KiB header like on a short one', () => {
    const huge = `${'application/x-filler;q=0.5, '.repeat(300)}text/html`;
    expect(huge.length).toBeGreaterThan(8 * 1024);
    expect(prefersHtml(huge)).toBe(true);
    expect(prefersHtml(`${huge};q=0.4, application/json;q=0.5`)).toBe(false);
  });
});

describe('preferredType', () => {
  it('breaks ties by the server\'s order and answers undefined when nothing is acceptable', () => {
    expect(preferredType('*/*', [HTML_TYPE, JSON_TYPE])).toBe(HTML_TYPE);
    expect(preferredType('*/*', [JSON_TYPE, HTML_TYPE])).toBe(JSON_TYPE);
    expect(preferredType('application/json', [HTML_TYPE, JSON_TYPE])).toBe(JSON_TYPE);
    expect(preferredType('image/png', [HTML_TYPE, JSON_TYPE])).toBeUndefined();
  });
});
