// The application's own plugin for downloading a folder as an archive. The
// file browser of JupyterLab 4.6 downloads files only, so this plugin adds
// a "Download as an Archive" submenu to the context menu of folders and a
// "Download Current Folder as an Archive" submenu to the context menu of
// the listing, each with the archive formats. Both open the server's
// /directories/{path}?archiveFormat=... endpoint, the one the
// jupyter-archive server extension has, and the browser saves the stream
// it sends.

import { URLExt } from '@jupyterlab/coreutils';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { downloadIcon } from '@jupyterlab/ui-components';
import { Menu } from '@lumino/widgets';

const commandIds = {
  selected: 'filebrowser:download-folder-archive',
  current: 'filebrowser:download-current-folder-archive'
};

// formats are the archiveFormat values offered, with their menu labels.
const formats = [
  ['zip', 'ZIP Archive'],
  ['tar.gz', 'TAR GZ Archive'],
  ['tar.bz2', 'TAR BZ2 Archive'],
  ['tar.xz', 'TAR XZ Archive']
];

// archiveURL returns the URL of the archive of the folder at path.
function archiveURL(baseUrl, path, format) {
  const url = new URL(URLExt.join(baseUrl, 'directories', URLExt.encodeParts(path)));
  url.searchParams.set('archiveFormat', format);
  return url.toString();
}

// download makes the browser save the response of url, as a link with the
// download attribute does, without leaving the page.
function download(url) {
  const link = document.createElement('a');
  link.href = url;
  link.download = '';
  document.body.appendChild(link);
  link.click();
  document.body.removeChild(link);
}

// formatMenu returns a submenu with an item of command for each format.
function formatMenu(commands, command, label) {
  const menu = new Menu({ commands });
  menu.title.label = label;
  menu.title.icon = downloadIcon;
  for (const [format] of formats) {
    menu.addItem({ command, args: { format } });
  }
  return menu;
}

export const folderArchive = {
  id: '@jupygo/lab:folder-archive',
  description: 'Adds context-menu entries that download a folder of the file browser as an archive.',
  autoStart: true,
  requires: [IFileBrowserFactory],
  activate: (app, factory) => {
    const { commands, contextMenu, serviceManager } = app;
    const { tracker } = factory;
    const baseUrl = serviceManager.serverSettings.baseUrl;
    const selectedFolders = () => {
      const browser = tracker.currentWidget;
      return browser ? Array.from(browser.selectedItems()).filter(i => i.type === 'directory') : [];
    };
    const formatLabel = args => (formats.find(([f]) => f === args.format) || formats[0])[1];
    const formatOf = args => (formats.some(([f]) => f === args.format) ? args.format : 'zip');

    commands.addCommand(commandIds.selected, {
      label: formatLabel,
      caption: 'Download the selected folders as archives',
      execute: args => {
        for (const folder of selectedFolders()) {
          download(archiveURL(baseUrl, folder.path, formatOf(args)));
        }
      }
    });
    commands.addCommand(commandIds.current, {
      label: formatLabel,
      caption: 'Download the folder shown in the file browser as an archive',
      execute: args => {
        const browser = tracker.currentWidget;
        if (browser) {
          download(archiveURL(baseUrl, browser.model.path, formatOf(args)));
        }
      }
    });

    contextMenu.addItem({
      type: 'submenu',
      submenu: formatMenu(commands, commandIds.selected, 'Download as an Archive'),
      selector: '.jp-DirListing-item[data-isdir="true"]',
      rank: 10
    });
    contextMenu.addItem({
      type: 'submenu',
      submenu: formatMenu(commands, commandIds.current, 'Download Current Folder as an Archive'),
      selector: '.jp-DirListing-content',
      rank: 3
    });
  }
};

export default [folderArchive];
