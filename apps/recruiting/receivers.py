"""Recruiting answers the customers app's events (connected in ``RecruitingConfig.ready``)."""


def membership_erased_forget_verifications(
    sender, *, phone: str, customer_erased: bool, **kwargs
) -> None:
    # The sign-up codes sent to a number are kept while anyone holds the
    # number; once the whole customer is erased, so are they.
    if customer_erased:
        from apps.recruiting.services import phone_verifications_forget

        phone_verifications_forget(phone=phone)
