// The application's own plugin for the user menu that the collaboration
// extension puts in the top bar. That menu shows the signed-in user's
// avatar, or the initials on the user's color, but no name and no items.
// This plugin labels it with the user's display name and, under a hub,
// fills it with the hub's control panel and log-out commands. usermenu.css
// centres the initials in their circle.

import { IUserMenu } from '@jupyter/collaboration';
import './usermenu.css';

// The hub extension registers these commands only under a hub.
const hubCommands = ['hub:control-panel', 'hub:logout'];

export const userMenuLabel = {
  id: '@jupygo/lab:user-menu-label',
  description: 'Shows the display name of the signed-in user in the user menu of the top bar.',
  autoStart: true,
  optional: [IUserMenu],
  activate: (app, menu) => {
    if (!menu) {
      return;
    }
    const { user } = app.serviceManager;
    const update = () => {
      const identity = user.identity;
      if (!identity) {
        return;
      }
      menu.title.label = identity.display_name || identity.name || identity.username || '';
    };
    // The menu bar renders the menu again when its title changes, not when
    // items are added, so the items go in before the first label.
    void Promise.all([user.ready, app.restored]).then(() => {
      for (const command of hubCommands) {
        if (app.commands.hasCommand(command)) {
          menu.addItem({ command });
        }
      }
      update();
      user.userChanged.connect(update);
    });
  }
};

export default [userMenuLabel];
