'use strict';

// Builds every trigger, create and search from declarations.json (written by the server's own
// `flask integrations export`), so the app offers exactly what the API takes.

const { body } = require('./http');

const zapKey = (key) => key.replace(/[.-]/g, '_');
const url = (bundle, path) => `${bundle.authData.base_url.replace(/\/+$/, '')}${path}`;

const TYPES = { integer: 'integer', number: 'number', boolean: 'boolean', datetime: 'datetime' };

const inputField = (field) => {
  const zapField = {
    key: field.key,
    label: field.label,
    required: field.required,
    helpText: field.help || undefined,
    type: TYPES[field.type] || 'string',
  };
  if (field.type === 'dict') {
    zapField.dict = true;
  }
  if (field.type === 'list') {
    zapField.list = true;
  }
  if (field.choices) {
    zapField.choices = field.choices;
  }
  if (field.dynamic) {
    zapField.dynamic = `${field.dynamic}_list.id.name`;
    delete zapField.choices;
  }
  return zapField;
};

const filtersOf = (bundle, trigger) => {
  const filters = {};
  for (const field of trigger.filters) {
    const value = bundle.inputData[field.key];
    if (value !== undefined && value !== null && value !== '') {
      filters[field.key] = field.type === 'integer' ? Number(value) : value;
    }
  }
  return filters;
};

// A trigger is a REST hook with a polling performList of the same items (Zapier dedupes on `id`).
const trigger = (declared) => ({
  key: zapKey(declared.key),
  noun: declared.noun,
  display: { label: declared.label, description: declared.description },
  operation: {
    type: 'hook',
    inputFields: declared.filters.map(inputField),
    performSubscribe: async (z, bundle) => {
      const response = await z.request({
        url: url(bundle, '/v1/hooks'),
        method: 'POST',
        body: { target_url: bundle.targetUrl, event: declared.key, filters: filtersOf(bundle, declared),
          label: 'zapier' },
      });
      return response.data;
    },
    performUnsubscribe: async (z, bundle) => {
      await z.request({ url: url(bundle, `/v1/hooks/${bundle.subscribeData.id}`), method: 'DELETE' });
      return {};
    },
    perform: (z, bundle) => [bundle.cleanedRequest],
    performList: async (z, bundle) => {
      const response = await z.request({
        url: url(bundle, declared.path),
        params: { ...filtersOf(bundle, declared), limit: 100 },
      });
      return response.data;
    },
    sample: declared.sample,
  },
});

// An action POSTs its fields; a search GETs with them (and answers [] when nothing matches, Zapier's "not found").
const request = (declared, method) => ({
  key: zapKey(declared.key),
  noun: declared.noun,
  display: { label: declared.label, description: declared.description },
  operation: {
    inputFields: declared.fields.map(inputField),
    perform: async (z, bundle) => {
      const sent = method === 'POST' ? { body: body(bundle.inputData) } : { params: body(bundle.inputData) };
      const response = await z.request({ url: url(bundle, declared.path), method, ...sent });
      return response.data;
    },
    sample: declared.sample,
  },
});

const create = (declared) => request(declared, 'POST');
const search = (declared) => request(declared, 'GET');

// Dynamic dropdowns are hidden triggers listing {id, name}.
const dropdown = (declared) => ({
  key: `${declared.key}_list`,
  noun: declared.key,
  display: { label: `List ${declared.key}`, description: `Choices for ${declared.key} fields.`, hidden: true },
  operation: {
    perform: async (z, bundle) => (await z.request({ url: url(bundle, declared.path) })).data,
    sample: { id: 'sample', name: 'Sample' },
  },
});

module.exports = { trigger, create, search, dropdown, zapKey };
