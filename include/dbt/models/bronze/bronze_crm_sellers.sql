-- Generated from include/sources.yaml by `make manifest` (liftoff derive): do not edit.
{{ bronze_seller(source_name='crm', stream='sellers', sync='full_refresh', cursor_field=none) }}
