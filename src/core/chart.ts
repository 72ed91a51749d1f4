import * as echarts from 'echarts';
import type { EChartsOption } from 'echarts';

/** A chart is never shown alone: its numbers are always in a table beside it. */
export interface ChartFigure {
  caption: string;
  svg: string;
  table: { head: string[]; rows: string[][] };
}

// Single quotes only: ECharts writes the family into a double-quoted style attribute unescaped.
const TEXT = { fontFamily: "'GDS Transport', arial, sans-serif", fontSize: 16, color: '#0b0c0c' };
const PALETTE = ['#1d70b8', '#f47738', '#00703c', '#912b88', '#d4351c', '#5694ca', '#85994b', '#6f72af'];

/** Server-side SVG: no JavaScript in the browser, and the same picture on every device. */
export function renderSvg(option: EChartsOption, size: { width: number; height: number }): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, ...size });
  try {
    // The page's own typeface and body size: the SVG shrinks with the screen, so smaller text would
    // be unreadable on a phone.
    chart.setOption({
      animation: false,
      color: PALETTE,
      aria: { enabled: true },
      textStyle: TEXT,
      ...option,
    });
    // ECharts adds an inline <style> of hover effects; our CSP refuses inline styles, and a static
    // picture has nothing to hover, so it goes.
    return chart.renderToSVGString().replace(/<style[^>]*>[\s\S]*?<\/style>/g, '');
  } finally {
    chart.dispose();
  }
}

export interface BarSeries {
  name: string;
  values: number[];
}

/**
 * Horizontal bars, one group per category: the shape most of our figures take (money by partner,
 * cost by agency). `format` turns a value into the table's text, and into the axis's unless
 * `axisFormat` gives a shorter one (money axes read "£2m", the table keeps every penny).
 */
export function barChart(input: {
  caption: string;
  categories: string[];
  series: BarSeries[];
  format?: (value: number) => string;
  axisFormat?: (value: number) => string;
  stacked?: boolean;
}): ChartFigure {
  const format = input.format ?? ((v: number) => String(v));
  const axisFormat = input.axisFormat ?? format;
  const height = Math.max(
    160,
    60 + input.categories.length * (input.stacked ? 32 : 22 * input.series.length + 12),
  );
  const svg = renderSvg(
    {
      aria: { enabled: true, label: { description: input.caption } },
      grid: { left: 8, right: 24, top: input.series.length > 1 ? 36 : 12, bottom: 8, containLabel: true },
      legend: input.series.length > 1 ? { top: 0, textStyle: TEXT } : { show: false },
      // Values are whole numbers (counts, pence): no axis ticks at 0.2 of a partner.
      // Few value ticks and category names cut at a third of the width, so long names (proposals,
      // services) cannot squeeze the bars into a sliver; the table beside the chart has them whole.
      xAxis: {
        type: 'value',
        minInterval: 1,
        splitNumber: 4,
        axisLabel: { ...TEXT, formatter: (v: number) => axisFormat(v) },
      },
      yAxis: {
        type: 'category',
        data: input.categories,
        inverse: true,
        axisLabel: { ...TEXT, width: 200, overflow: 'truncate' },
      },
      series: input.series.map((s) => ({
        type: 'bar',
        name: s.name,
        data: s.values,
        ...(input.stacked ? { stack: 'total' } : {}),
      })),
    },
    { width: 600, height },
  );
  return {
    caption: input.caption,
    svg,
    table: {
      head: ['', ...input.series.map((s) => s.name)],
      rows: input.categories.map((category, i) => [
        category,
        ...input.series.map((s) => format(s.values[i] ?? 0)),
      ]),
    },
  };
}
