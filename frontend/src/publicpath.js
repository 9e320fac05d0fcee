// Sets the base URL of lazily loaded chunks from the page config, before any
// other module runs. The page config is the JSON in the script element with
// id jupyter-config-data, and fullStaticUrl carries no trailing slash.
function staticUrl() {
  const el = document.getElementById('jupyter-config-data');
  const config = el ? JSON.parse(el.textContent || '{}') : {};
  return config.fullStaticUrl || '';
}

// eslint-disable-next-line no-undef
__webpack_public_path__ = staticUrl() + '/';
