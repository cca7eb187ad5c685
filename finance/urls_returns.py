"""Returns pages; included by portal/urls.py under the language prefix."""

from django.urls import path

from . import views_returns as views

app_name = "returns"

urlpatterns = [
    path("portfolio/", views.portfolio, name="portfolio"),
    path("portfolio/transactions.csv", views.transactions_export, name="transactions_csv"),
    path("wallet/", views.wallet, name="wallet"),
    path("wallet/reinvest/", views.wallet_reinvest, name="wallet_reinvest"),
    path("wallet/withdraw/", views.wallet_withdraw, name="wallet_withdraw"),
    path("wallet/bank-accounts/", views.bank_account_add, name="bank_account_add"),
    path("loans/<int:pk>/", views.loan_detail, name="loan"),
    path("loans/<int:pk>/repayments/", views.loan_repayment_record, name="loan_repayment"),
    path("loans/<int:pk>/repay-by-card/", views.loan_card_repay, name="loan_card_repay"),
    path(
        "loans/<int:pk>/repay-by-card/<int:payment_pk>/",
        views.loan_card_payment,
        name="loan_card_payment",
    ),
    path(
        "loans/<int:pk>/repay-by-card/<int:payment_pk>/refresh/",
        views.loan_card_payment_refresh,
        name="loan_card_payment_refresh",
    ),
    path("loans/servicing/", views.loans_servicing, name="loans_servicing"),
    path("loans/<int:pk>/restructure/", views.loan_restructure, name="loan_restructure"),
    path("loans/<int:pk>/write-off/", views.loan_write_off, name="loan_write_off"),
    path("revenue-shares/<int:pk>/", views.revenue_share, name="revenue"),
    path(
        "revenue-shares/<int:pk>/reports/<int:report_pk>/document/",
        views.revenue_document,
        name="revenue_document",
    ),
    path("bonds/<int:pk>/", views.bond_detail, name="bond"),
    path("payouts/review/", views.payouts_review, name="payouts_review"),
    path("payouts/<int:pk>/decide/", views.payout_decide, name="payout_decide"),
]
