'use strict';

// Builds every trigger, create and search from declarations.json (written by the server's own
// `flask integrations export`), so the app offers exactly what the API takes.

const { body } = require('./http');

const zapKey = (key) => key.replace(/[.-]/g, '_');
const url = (bundle, path) => `${bundle.authData.base_url.replace(/\/+$/, '')}${path}`;

const TYPES = { integer: 'integer', number: 'number', boolean: 'boolean', datetime: 'datetime' };

// Id inputs pick from the account's records in a dropdown, or take the id a search step finds.
const ID_PICKERS = {
  contact_id: { dynamic: 'contacts_list.id.name', search: 'find_contact.id' },
  dropoff_id: { dynamic: 'dropoffs_list.id.scenario', search: 'find_dropoff.id' },
  deal_id: { dynamic: 'deals_list.id.name' },
};
// The record lists behind those dropdowns (newest first, as the API lists them).
const RECORDS = [
  { key: 'contacts', path: '/v1/contacts', sample: { id: 42, name: 'Dana Reyes' } },
  { key: 'dropoffs', path: '/v1/dropoffs', sample: { id: 7, scenario: 'sales.application_abandoned' } },
  { key: 'deals', path: '/v1/deals', sample: { id: 9, name: 'Acme renewal' } },
];
// A search takes one of several identifiers: it asks which one, and its value, both required.
const LOOKUP_BY = 'lookup_by';
const LOOKUP_VALUE = 'lookup_value';

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
  Object.assign(zapField, ID_PICKERS[field.key]);
  return zapField;
};

// What a unit's items hold, flattened as Zapier names nested values: `contact__email`, `items[]name`.
const outputFields = (outputs, prefix = '', labels = []) => outputs.flatMap((output) => {
  const key = `${prefix}${output.key}`;
  const label = [...labels, output.label].join(' ');
  if (output.fields) {
    const nested = output.type === 'dict' ? `${key}__` : `${key}[]`;
    return outputFields(output.fields, nested, [label]);
  }
  const field = { key, label, type: TYPES[output.type] || 'string' };
  if (output.type === 'list') {
    field.list = true;
  }
  return [field];
});

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
    outputFields: outputFields(declared.outputs),
  },
});

// A search's identifiers (of which the server requires one) as a required "find by" choice and value.
const lookupFields = (declared) => {
  const oneOf = declared.one_of || [];
  if (!oneOf.length) {
    return declared.fields.map(inputField);
  }
  const labels = Object.fromEntries(declared.fields.map((field) => [field.key, field.label]));
  return [
    { key: LOOKUP_BY, label: 'Find by', required: true, choices: oneOf.map((key) => ({ value: key, label: labels[key],
      sample: key })), default: oneOf.includes('email') ? 'email' : oneOf[0] },
    { key: LOOKUP_VALUE, label: 'Value', required: true, type: 'string',
      helpText: 'The value of the identifier chosen above, such as `dana@example.com` for an email.' },
    ...declared.fields.filter((field) => !oneOf.includes(field.key)).map(inputField),
  ];
};

const lookedUp = (inputData) => {
  const { [LOOKUP_BY]: by, [LOOKUP_VALUE]: value, ...rest } = inputData || {};
  return by ? { ...rest, [by]: value } : rest;
};

// An action POSTs its fields; a search GETs with them (and answers [] when nothing matches, Zapier's "not found").
const request = (declared, method) => ({
  key: zapKey(declared.key),
  noun: declared.noun,
  display: { label: declared.label, description: declared.description },
  operation: {
    inputFields: method === 'POST' ? declared.fields.map(inputField) : lookupFields(declared),
    perform: async (z, bundle) => {
      const sent = method === 'POST' ? { body: body(bundle.inputData) } : { params: body(lookedUp(bundle.inputData)) };
      const response = await z.request({ url: url(bundle, declared.path), method, ...sent });
      return response.data;
    },
    sample: declared.sample,
    outputFields: outputFields(declared.outputs),
  },
});

const create = (declared) => request(declared, 'POST');
const search = (declared) => request(declared, 'GET');

// Dynamic dropdowns are hidden triggers listing {id, name} (or the records an id field picks from).
const dropdown = (declared) => ({
  key: `${declared.key}_list`,
  noun: declared.key,
  display: { label: `List ${declared.key}`, description: `Choices for ${declared.key} fields.`, hidden: true },
  operation: {
    perform: async (z, bundle) => (await z.request({ url: url(bundle, declared.path), params: { limit: 100 } })).data,
    sample: declared.sample || { id: 'sample', name: 'Sample' },
  },
});

// Find Contact, else Create or Update Contact: one step in a Zap.
const searchOrCreate = (searchKey, createKey, label) => ({
  key: searchKey,
  display: { label, description: `Finds a contact, or creates one when none matches.` },
  search: searchKey,
  create: createKey,
});

module.exports = { trigger, create, search, dropdown, searchOrCreate, zapKey, RECORDS };
