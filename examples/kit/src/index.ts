/** What the examples share that is not wirehop itself. Each example's wirehop code is its own. */
export { clientBundle } from './bundle.js';
export { pageApp, pageUrl, type PageFiles } from './pages.js';
export { runExample, type Running } from './run.js';
