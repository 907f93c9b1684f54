/** Every scenario in report order, and the child-side tasks they need. */
import { commonClientTasks, commonServerTasks } from './common.js';
import { echoClientTasks, echoScenario } from './echo.js';
import { fanoutClientTasks, fanoutScenario, fanoutServerTasks } from './fanout.js';
import { memoryScenario, memoryServerTasks } from './memory.js';
import { setupScenario } from './setup.js';
import { switchingClientTasks, switchingScenario } from './switching.js';
import type { ClientTask, Scenario, ServerTask } from './types.js';
import { upstreamClientTasks, upstreamScenario } from './upstream.js';

export const SCENARIOS: readonly Scenario[] = [echoScenario, upstreamScenario, fanoutScenario, memoryScenario, setupScenario, switchingScenario];

export const CLIENT_TASKS: Record<string, ClientTask> = {
  ...commonClientTasks,
  ...echoClientTasks,
  ...upstreamClientTasks,
  ...fanoutClientTasks,
  ...switchingClientTasks,
};

export const SERVER_TASKS: Record<string, ServerTask> = { ...commonServerTasks, ...fanoutServerTasks, ...memoryServerTasks };
