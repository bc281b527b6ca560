"""Money is integer minor units with an ISO 4217 currency code."""

from berth.domain.error import InvalidCommand

# Active ISO 4217 codes (the funds and precious-metal codes are left out).
CURRENCIES = frozenset(
    """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB
    EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR
    ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD
    MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR
    PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE
    SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU
    UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    """.split()
)


class UnknownCurrency(InvalidCommand):
    code = "unknown-currency"

    def __init__(self, currency: str) -> None:
        super().__init__(f"{currency!r} is not an ISO 4217 currency code")


class NegativeAmount(InvalidCommand):
    code = "negative-amount"

    def __init__(self, amount: int) -> None:
        super().__init__(f"an amount cannot be negative, got {amount}")


def check_currency(currency: str) -> str:
    if currency not in CURRENCIES:
        raise UnknownCurrency(currency)
    return currency


def check_amount(amount: int) -> int:
    if amount < 0:
        raise NegativeAmount(amount)
    return amount
