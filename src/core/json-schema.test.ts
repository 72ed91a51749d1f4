import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import {
  closedObject,
  id,
  isoDate,
  pageQuery,
  penceAmount,
  placeParams,
  placeParamsOf,
  slugParam,
} from './json-schema.ts';

describe('JSON-schema building blocks', () => {
  const ajv = new Ajv();
  const valid = (schema: object, value: unknown) => ajv.validate(schema, value);

  it('take ids that fit a PostgreSQL integer, dates written YYYY-MM-DD and positive pence', () => {
    assert.equal(valid(id, 1), true);
    assert.equal(valid(id, 0), false);
    assert.equal(valid(id, 2_147_483_648), false);
    assert.equal(valid(isoDate, '2013-04-01'), true);
    assert.equal(valid(isoDate, '1/4/2013'), false);
    assert.equal(valid(penceAmount(), 1_000_000_000_000), true);
    assert.equal(valid(penceAmount(100), 101), false);
    assert.equal(valid(penceAmount(), 0), false);
  });

  it('build params under a place and a page query', () => {
    assert.deepEqual(slugParam.required, ['slug']);
    assert.equal(valid(placeParams('id', 'aid'), { slug: 'devon', id: 1, aid: 2 }), true);
    assert.equal(valid(placeParams('id'), { slug: 'devon' }), false);
    assert.equal(valid(placeParams('id'), { slug: 'x'.repeat(61), id: 1 }), false);
    assert.equal(valid(placeParamsOf({ year: { type: 'integer' } }), { slug: 'devon', year: 2012 }), true);
    assert.equal(valid(pageQuery(10), { page: 11 }), false);
    assert.equal(valid(pageQuery(10, { tag: { type: 'string' } }), { page: 2, tag: 'x' }), true);
  });

  it('build closed objects: every property required unless said, and nothing else allowed', () => {
    const signIn = closedObject({ email: { type: 'string' }, password: { type: 'string' } });
    assert.equal(valid(signIn, { email: 'a@b.uk', password: 'x' }), true);
    assert.equal(valid(signIn, { email: 'a@b.uk' }), false);
    assert.equal(valid(signIn, { email: 'a@b.uk', password: 'x', admin: true }), false);
    const note = closedObject({ title: { type: 'string' }, tags: { type: 'array' } }, ['title']);
    assert.equal(valid(note, { title: 'x' }), true);
    assert.equal(valid(note, { tags: [] }), false);
  });
});
