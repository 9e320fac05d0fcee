// Registers the bundled and prebuilt extensions' plugins, honouring the
// disabledExtensions and deferredExtensions lists of the page config, and
// starts JupyterLab.

import { JupyterPluginRegistry, PageConfig } from '@jupyterlab/coreutils';
import { extensions, mimeExtensions } from '@jupygo/extensions';
import archivePlugins from './archive';
import userMenuPlugins from './usermenu';

const ownPlugins = [...userMenuPlugins, ...archivePlugins];

// Plugin ids that JupyterLab 4 renamed. Page configs and settings written for
// older versions may still name the old ones.
const renamedPlugins = {
  '@jupyterlab/application:mimedocument': '@jupyterlab/application-extension:mimedocument',
  '@jupyterlab/help-extension:licenses': '@jupyterlab/apputils-extension:licenses-plugin',
  '@jupyterlab/lsp:ILSPCodeExtractorsManager': '@jupyterlab/lsp-extension:code-extractor-manager',
  '@jupyterlab/translation:translator': '@jupyterlab/translation-extension:translator',
  '@jupyterlab/workspaces:commands': '@jupyterlab/workspaces-extension:commands'
};

function currentId(id) {
  const renamed = renamedPlugins[id];
  if (renamed) {
    console.warn(`Plugin ${id} is now named ${renamed}; update the configuration that names it.`);
    return renamed;
  }
  return id;
}

// matcher returns a predicate that is true for a plugin id in patterns, or
// for every plugin of a package whose name is in patterns.
function matcher(patterns) {
  return id => {
    const colon = id.indexOf(':');
    const pkg = colon === -1 ? '' : id.slice(0, colon);
    return patterns.some(p => p === id || (pkg !== '' && p === pkg));
  };
}

// createModule instantiates a module exposed by a prebuilt extension's
// module-federation container.
async function createModule(scope, module) {
  try {
    const factory = await window._JUPYTERLAB[scope].get(module);
    const instance = factory();
    instance.__scope__ = scope;
    return instance;
  } catch (err) {
    console.warn(`Cannot create module ${module} of package ${scope}`);
    throw err;
  }
}

// pluginsOf returns the plugins that an extension module exports, as an ES
// module default or a CommonJS export, singly or as an array.
function pluginsOf(extension) {
  const exported = Object.prototype.hasOwnProperty.call(extension, '__esModule')
    ? extension.default
    : extension;
  return Array.isArray(exported) ? exported : [exported];
}

class PluginSelection {
  constructor() {
    this.disabledPatterns = PageConfig.Extension.disabled.map(currentId);
    this.deferredPatterns = PageConfig.Extension.deferred.map(currentId);
    this.isDisabled = matcher(this.disabledPatterns);
    this.isDeferred = matcher(this.deferredPatterns);
    this.disabled = [];
    this.deferred = [];
    this.available = [];
  }

  // active returns the plugins of extension that are not disabled and
  // records every plugin for the plugin manager.
  active(extension) {
    const active = [];
    for (const plugin of pluginsOf(extension)) {
      const disabled = this.isDisabled(plugin.id);
      this.available.push({
        id: plugin.id,
        description: plugin.description,
        requires: plugin.requires ?? [],
        optional: plugin.optional ?? [],
        provides: plugin.provides ?? null,
        autoStart: plugin.autoStart,
        enabled: !disabled,
        extension: extension.__scope__
      });
      if (disabled) {
        this.disabled.push(plugin.id);
        continue;
      }
      if (this.isDeferred(plugin.id)) {
        this.deferred.push(plugin.id);
      }
      active.push(plugin);
    }
    return active;
  }
}

// loadBundled collects the active plugins of the bundled extensions whose
// name no prebuilt extension took over.
function loadBundled(entries, replaced, selection, into) {
  for (const entry of entries) {
    if (replaced.has(entry.name)) {
      continue;
    }
    try {
      const extension = entry.load();
      extension.__scope__ = entry.name;
      into.push(...selection.active(extension));
    } catch (err) {
      console.error(err);
    }
  }
}

async function loadFederated(promises, selection, into) {
  for (const result of await Promise.allSettled(promises)) {
    if (result.status === 'fulfilled') {
      into.push(...selection.active(result.value));
    } else {
      console.error(result.reason);
    }
  }
}

export async function main() {
  const selection = new PluginSelection();
  const federated = JSON.parse(PageConfig.getOption('federated_extensions') || '[]');

  const replaced = new Set();
  const extensionPromises = [];
  const mimePromises = [];
  const stylePromises = [];
  for (const data of federated) {
    if (data.extension) {
      replaced.add(data.name);
      extensionPromises.push(createModule(data.name, data.extension));
    }
    if (data.mimeExtension) {
      replaced.add(data.name);
      mimePromises.push(createModule(data.name, data.mimeExtension));
    }
    if (data.style && !selection.isDisabled(data.name)) {
      stylePromises.push(createModule(data.name, data.style));
    }
  }

  const mimePlugins = [];
  loadBundled(mimeExtensions, replaced, selection, mimePlugins);
  await loadFederated(mimePromises, selection, mimePlugins);

  const plugins = [];
  loadBundled(extensions, replaced, selection, plugins);
  plugins.push(...selection.active({ __esModule: true, default: ownPlugins, __scope__: '@jupygo/lab' }));
  await loadFederated(extensionPromises, selection, plugins);

  for (const result of await Promise.allSettled(stylePromises)) {
    if (result.status === 'rejected') {
      console.error(result.reason);
    }
  }

  const pluginRegistry = new JupyterPluginRegistry();
  pluginRegistry.registerPlugins(plugins);

  const { IConnectionStatus, IServiceManager } = require('@jupyterlab/services');
  const connectionStatus = await pluginRegistry.resolveOptionalService(IConnectionStatus);
  const serviceManager = await pluginRegistry.resolveRequiredService(IServiceManager);

  const { JupyterLab } = require('@jupyterlab/application');
  const lab = new JupyterLab({
    pluginRegistry,
    serviceManager,
    connectionStatus,
    mimeExtensions: mimePlugins,
    disabled: { matches: selection.disabled, patterns: selection.disabledPatterns },
    deferred: { matches: selection.deferred, patterns: selection.deferredPatterns },
    availablePlugins: selection.available
  });
  lab.start({ ignorePlugins: selection.deferred, bubblingKeydown: true });

  const exposeApp = (PageConfig.getOption('exposeAppInBrowser') || '').toLowerCase() === 'true';
  const devMode = (PageConfig.getOption('devMode') || '').toLowerCase() === 'true';
  if (exposeApp || devMode) {
    window.jupyterapp = lab;
  }
}
