-- Seller performance over the window of days ending on the run's day.
{{ sales_window_ranking('seller_email') }}
