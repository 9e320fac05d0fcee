// The application's own plugin for downloading a folder as an archive. The
// file browser of JupyterLab 4.6 downloads files only, so this plugin adds
// "Download as an Archive" to the context menu of folders and "Download
// Current Folder as an Archive" to the context menu of the listing. Both
// open the server's /directories/{path}?archiveFormat=zip endpoint, the one
// the jupyter-archive server extension has, and the browser saves the
// stream it sends.

import { URLExt } from '@jupyterlab/coreutils';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { downloadIcon } from '@jupyterlab/ui-components';

const commandIds = {
  selected: 'filebrowser:download-folder-archive',
  current: 'filebrowser:download-current-folder-archive'
};

// archiveURL returns the URL of the zip archive of the folder at path.
function archiveURL(baseUrl, path) {
  const url = new URL(URLExt.join(baseUrl, 'directories', URLExt.encodeParts(path)));
  url.searchParams.set('archiveFormat', 'zip');
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

export const folderArchive = {
  id: '@jupygo/lab:folder-archive',
  description: 'Adds commands that download a folder of the file browser as a zip archive.',
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

    commands.addCommand(commandIds.selected, {
      label: 'Download as an Archive',
      caption: 'Download the selected folders as zip archives',
      icon: downloadIcon.bindprops({ stylesheet: 'menuItem' }),
      isVisible: () => selectedFolders().length > 0,
      execute: () => {
        for (const folder of selectedFolders()) {
          download(archiveURL(baseUrl, folder.path));
        }
      }
    });
    commands.addCommand(commandIds.current, {
      label: 'Download Current Folder as an Archive',
      caption: 'Download the folder shown in the file browser as a zip archive',
      icon: downloadIcon.bindprops({ stylesheet: 'menuItem' }),
      execute: () => {
        const browser = tracker.currentWidget;
        if (browser) {
          download(archiveURL(baseUrl, browser.model.path));
        }
      }
    });

    contextMenu.addItem({
      command: commandIds.selected,
      selector: '.jp-DirListing-item[data-isdir="true"]',
      rank: 10
    });
    contextMenu.addItem({
      command: commandIds.current,
      selector: '.jp-DirListing-content',
      rank: 3
    });
  }
};

export default [folderArchive];
