// Plots for experiments: SVG line and scatter plots, rendered to PNG.
export { linePlot, type LinePlotOptions, type LineSeries } from './line-plot.js';
export { scatterPlot, type ScatterPlotOptions, type PointGroup } from './scatter-plot.js';
export { PALETTE, type Chart, type ChartOptions, type AxisOptions } from './chart.js';
export { svgToPixels, svgToPng } from './render.js';
export { niceTicks, formatTick } from './ticks.js';
