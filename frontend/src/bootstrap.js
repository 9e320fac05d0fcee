// Loads the prebuilt extensions named in the page config (their
// module-federation containers must join the shared scope before any shared
// module is used), then starts the application from main.js.

function pageConfig() {
  const el = document.getElementById('jupyter-config-data');
  return el ? JSON.parse(el.textContent || '{}') : {};
}

function loadScript(url) {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.onload = resolve;
    script.onerror = () => reject(new Error(`loading ${url} failed`));
    script.async = true;
    script.src = url;
    document.head.appendChild(script);
  });
}

// loadContainer loads one prebuilt extension's remote entry and initialises
// its container with the host's share scope.
async function loadContainer(baseUrl, extension) {
  await loadScript(`${baseUrl}/${extension.name}/${extension.load}`);
  // eslint-disable-next-line no-undef
  await __webpack_init_sharing__('default');
  const container = window._JUPYTERLAB[extension.name];
  // eslint-disable-next-line no-undef
  await container.init(__webpack_share_scopes__.default);
}

async function bootstrap() {
  const config = pageConfig();
  const federated = Array.isArray(config.federated_extensions) ? config.federated_extensions : [];
  const results = await Promise.allSettled(
    federated.map(ext => loadContainer(config.fullLabextensionsUrl || '', ext))
  );
  for (const result of results) {
    if (result.status === 'rejected') {
      console.error(result.reason);
    }
  }

  const { main } = await import('./main.js');
  if (document.readyState === 'complete') {
    void main();
  } else {
    window.addEventListener('load', () => void main());
  }
}

void bootstrap();
