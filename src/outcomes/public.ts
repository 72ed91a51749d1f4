/** What other capabilities (the network's dashboards) may use of outcomes: a place's indicators and how to show them. */
import type { Status } from './domain.ts';

export { indicatorProgress, listIndicators, type IndicatorSummary } from './store.ts';

export const STATUS_TAG_CLASSES: Record<Status, string> = {
  on_track: 'govuk-tag--green',
  at_risk: 'govuk-tag--yellow',
  off_track: 'govuk-tag--red',
  no_data: 'govuk-tag--grey',
};

const figure = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 2 });
export const formatValue = (value: number) => figure.format(value);
