/** The surface of dashboard/: what other features and the app may import from it. */
export { barChart, donutChart, shortDay } from './charts';
export { dashboardFor, weekChangeText } from './dashboard-stats';
