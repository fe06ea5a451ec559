'use strict';

// Every request carries the API key; every error answer becomes an error Zapier shows or retries.

const addApiKey = (request, z, bundle) => {
  request.headers = request.headers || {};
  request.headers.Authorization = `Bearer ${bundle.authData.api_key}`;
  request.headers.Accept = 'application/json';
  return request;
};

const explain = (response) => {
  const error = (response.json && response.json.error) || {};
  const fields = ((error.details && error.details.fields) || []).map((f) => `${f.field}: ${f.message}`);
  return fields.length ? `${error.message} (${fields.join('; ')})` : error.message || `HTTP ${response.status}`;
};

const handleErrors = (response, z) => {
  if (response.status < 400 || response.skipThrowForStatus) {
    return response;
  }
  const message = explain(response);
  if (response.status === 401) {
    // A revoked or mistyped key: Zapier marks the connection expired and asks the user to reconnect.
    throw new z.errors.ExpiredAuthError(`Reengage refused the API key: ${message}`);
  }
  if (response.status === 429) {
    // Zapier retries a throttled step after the delay the server asked for.
    throw new z.errors.ThrottledError(message, Number(response.getHeader('retry-after')) || 60);
  }
  const code = (response.json && response.json.error && response.json.error.code) || 'error';
  throw new z.errors.Error(message, code, response.status);
};

// Zapier sends dotted field keys (contact.email) and empty strings; the API takes nested objects.
const body = (inputData) => {
  const out = {};
  for (const [key, value] of Object.entries(inputData || {})) {
    if (value === undefined || value === null || value === '') {
      continue;
    }
    const parts = key.split('.');
    let node = out;
    for (const part of parts.slice(0, -1)) {
      node[part] = node[part] || {};
      node = node[part];
    }
    node[parts[parts.length - 1]] = value;
  }
  return out;
};

module.exports = { addApiKey, handleErrors, body };
