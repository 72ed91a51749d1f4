-- Forecast savings count a business case only once an investment agreement for it is approved, at
-- the present value of the fiscal benefits of the revision the agreement was proposed from. A case
-- keeps only its latest revision, so the agreement keeps that figure, as it keeps its repayments.
-- Agreements proposed before this migration have none: the figures list them as not counted.
alter table cba_investment_agreements add column forecast_savings_pence bigint;
