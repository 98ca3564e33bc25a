// The shared conformance vectors (test/fixtures/compat-vectors.json, copied unchanged from
// /work/shared/vectors): one test per case. A failing case is an engine bug or a spec
// question; never edit the fixture to make it pass.

import { loadVectors, registerVectorTests } from './helpers/compat-vectors.ts';

registerVectorTests(loadVectors(new URL('./fixtures/compat-vectors.json', import.meta.url)), 'compat-vectors.json');
