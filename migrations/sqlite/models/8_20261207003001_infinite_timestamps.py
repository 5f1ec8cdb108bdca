from tortoise import BaseDBAsyncClient

# Hand-written: nothing to do on SQLite, which stores timestamps as text and has no infinities. The
# PostgreSQL migration of the same number repairs notes imported at -infinity or infinity; this one keeps
# the two folders numbered alike.
RUN_IN_TRANSACTION = True


async def upgrade(db: BaseDBAsyncClient) -> str:
    return "SELECT 1;"


async def downgrade(db: BaseDBAsyncClient) -> str:
    return "SELECT 1;"


MODELS_STATE = (
    "eJztXWtv2zgW/SuEv0wCeDKJm9dmFws4qTvNNokHibttpxkotETbQmRSlag4xmz/+5KUZL"
    "1lKX5EUvildSReijp8nXt4Sf3dmhINGfbeH8iyCYZGV1WRbQ/II8KtM/B3C8MpYj/ykrVB"
    "C5pmkIhfoHBoCDvTM1CgsFDowmRoUwuqlCUaQcNG7JKGbNXSTaoT/mzsGAa/SFSWUMfj4J"
    "KD9R8OYlmNEZ0gi934/he7rGMNPSPb/9N8VEY6MrTIa+gaf7a4rtC5Ka5dYvpBJORPGyoq"
    "MZwpDhKbczoheJFax5RfHSOMLEgRz55aDi8+L5332v4buSUNkrhFDNloaAQdg4Zed6gE11"
    "qKctMfKHe9gaK0SgCkEszBZUW1xduPeRF+7Rwcnhyevjs+PGVJRDEXV05+uo8OgHENBTw3"
    "g9ZPcR9S6KYQGAegiv8TsF5MoJWOq58+hiwrchxZH8c8aP0LAbZBe9oGuFP4rBgIj+mE/X"
    "mwv58D5X+7txcfu7c7LNUufyRhHcDtJjferY57j+Md4Cv6jDKB9qQMylGr9WD9us04gvTx"
    "YQGgjw8zcea3ojCrECszS6cpbfmcEANBnA50xC6G85AZ1rBR50B73u9f8Zyntv3DEBcuBz"
    "GMP1+f91gjF9CzRByZ0DgSAtxCHBIF0iTi79kdqk9RBuQRyxjmmme65/9oVgUMLq97d4Pu"
    "9R+RWnjfHfT4nY64Oo9d3TmO9YNFJuDL5eAj4H+CP/s3PQEnsenYEk8M0g3+bPEyQYcSBZ"
    "OZArUwJv5l/1KkmtGzqbPsXlDNUcs1VLM3XMlaXn8tG9CmimO/qDvHbWVNV7mmWUVZSiki"
    "HbJYzqZfNjrXjU9zD2X0mEqnOVpJcD8QC+lj/AnNBcaXrEQQq2mcw3PVPnvZ1Avbn37b8a"
    "8Gz7fgbOHRhZsUe3X2wshlGRfdu4vu+15LADyE6uMMWpoSQZrfIR0Su7JIm7w17UzjVyCG"
    "Y4ENfwteZg/0WzRiPW2S6T9H7rfzHGfLTSkd5pp28HaOwywduq04dLaJcAoXyXXmFjZbdO"
    "QWV6QnJz25KjM/G9k2e/1y5C9qJPnfUv7nAbYmCngX5FYvlIsywWj7qhIZFAw8hQT6zDyb"
    "/PkugOR8terUeZyPV2nZhZKwTeP43mGRlZLD7IWSw8Q6iQlte0ZYry3LrBOGDVyZ6hwdFc"
    "CbpcoEXNyTvK8o+uwFtT425l4nqwkP9MaDBA1M8JXsKTXUIdMW/+0Uj8zL58OnW2RA6tGV"
    "dE6TEYFQs9aRRW7S6PaKgK2dBFYPKEwoWhGlG0LrOMoUgkfX0NRk74fVufKI5isidRnkxj"
    "yRpmLGmxQbr6aMgBO8jsY18PNqKmIzNJwQ8rgiVF/cXJoEUikXM8StJhCPEcvPwTRtQchH"
    "tY9Z22L/LMf2QuR4EWRYyzXUdIBLuuX+hJjhnYfmy3wnXQmJNdJZb4yzLv2aZb2w6n5MHW"
    "NWZFW/iSA0Wc0bjk1i037aum++zhpYvUj8qxhX2oL2J8PAZBjYqy/+rRAGFiAdCbVa0X+N"
    "B3jVcy5Y0Ykt6ZAJ7S3FE/M1uWwXDPspNul6fW+RGV40M2ipE/0Jid+OqYXIPrvPLLNTR1"
    "2DtNRu+81L4YkCNvrhp5CO4VYj93RqlFrCXRg0cUmx0Ga3Ts5mt05ys9uQaPMkwAP0nNFy"
    "/fTbw7fVegUi3vs6iHBwH8Od6+7X3QgPv+rf/O4nD2F+cdU/j+8rhOOU2e4/d/2bjLbspY"
    "/7QLpKwf+AodtrInEpkP9r5GCV4wmGjm5QHdt7/Hn/foWq4PjkV0Uc9XbUz+EZxKvC1DFG"
    "KQN2bqxqYCSDVUsEq4bn5BJoh80k3iXwfkJWejxjJhsJWWzKUUwCfVBpSiK16bemZEV8iz"
    "LVHLWU1Vzpao66fGWqOWopt8xWuZajbnuMdOjjzIkware9uTCtWvdXngL/0em8e3fS2X93"
    "fHp0eHJydLq/mAuTt/ImxfPL3/m8GKnO5EQZ1k0KEo+wyeuiXSHykaNRC7wqJVJXQi1tx1"
    "TqcLNaRaZ+0tcQD8pV1VsvqwZhvnGFeoFZhlIdxjRfsVascNJl0nVrMEGAdSCKAMEIeL4R"
    "ICMAAc8NTKB2BvgBRBRhoGNAeXpWPgYLxDZ0ZRNoi+vuhMJ+QgqmUBNdMoz5Rh92j8VPP9"
    "MdEbarMKx+E79+c9Pbe+Z8tw1sAhBLOV8kh0A1dIQpmLHs2bNmyEIamOl0AnQbTNhfe612"
    "qp7/3UXd7X++b/nXKgFWeXN2w6T0rUza2YJ7TcSDik/hEdVXLmG8+SWMV3Lb3vYixuuA/s"
    "aXK14H9De7WlF7uKW6/qKRvW6CXMghKEgrQxaSVi5XhvzIrBWFoYZty2zHhKFQo6rSwSWx"
    "LZ4pgkdyE2i25BHbflpM9Oh63v4vNngIPexX9rQHMCKWkCcQ1kzC0G0DiDUhObi6ANCpDU"
    "a6ZVNgIdYg2P9jQvcSYscmHnKP7zFr18hijRUM58LAvy/kD8dGrjzCsHDt23lCyozbCEMv"
    "l3ssDpu23fKoZGqKdSBPCaG+NgKGiL2Bp76E82QWU5bsjCssfjF0m+WuEktj+eije8xzJt"
    "hgN0YijdBnALTQHuACkdvNQNC8gYZUVs28tLo64XIRnRHAapgB7ZfbBmSGWSb8gdlKTVgq"
    "9ZHnv3nDiUs238N7M8oFQkoBZ1sCTrgSiyoOYZtGOMVR0eGoiOZwlC05HCUUB29YLYqvl7"
    "yB0G5kp8uIPR9ZplWyFcfMGoj2Bo7spJA6KXrO3RQaRvYRgwurF1HzigU+eOP2u87J8WKk"
    "5n/kjc13192rq6Q3O0FQQ1YpfSxkUo04X/7YxsT5pkvD5zqG1ryUODyce0fe1Ktt59ELD8"
    "IF3gzu88ub7u23dHn4PAXy82+DXlcqOm9R0ZEbvN9ENcugLhnUtZXestGgrk2Kd9FTnlK0"
    "u8QxUNnSXfIMquXKXR8jYJEZMJEFBEZnQkLi56X4EUHYmQ7ZXfYHF5yIQ8GOjZAnlQkZyg"
    "KsNI6BdpOi3Zrz53pdF4g35rqV7upUgDXYCUtFWR488kgMJvz+A99x/tD2xTNeEDdMSYhy"
    "Fk/CRUNRMGAQ9dEGun2PMaGx9L4myLUyLtG5FvzQUBtQAtggOEGY6qoIxWLFFdXtyo+qqI"
    "8sDU0eHPWK+4NLR3hvPbR7f7PIbjnG27QczBg6nVjEGaec+ZwHfdJW1sJKtVB+UTVp2Jgq"
    "WFu8XiUYb+0H7QTfLUPOlnJj/wzODTPjV62FDfHilePyg4N1MwLzIyfvLonMp5G0BVapRV"
    "C8txVPLBmPCdHAjulYrMC7bT8UfoTYbQuZxGL8Uqdngmfq2mJJORwqb6EpeeILsakr1pt9"
    "4D3z70wKBv3r87sBc+GV296gdzO47N8o77vf7trcFgN32C5IQPMOsPEH/uzF2woE6tR+7M"
    "sjrE3YmVhr7lShDcAFKuQVJhwpWzarf0nZsk70bGuypX/wfwqJC30TIJu+zUKJ5EHsderT"
    "efTEsYwkqjkH+brJGxhq09k/PC20U+3wNGerGr8ZpR/oCfHnFW+5gYGclFLonI1UC5UKEw"
    "ssGthsDwrtrzzI2V95kNxfKSM6lrEAyZnl8CQ5cyU4c3yqVYiT9k368p/I6j2hWjbpVznA"
    "xcOsSymamrSV7WT4KdoFfA02jQSJC8VFsJx0sfrvWQq5Vqd8j5GnpyZCHZabrNlnkVtj1i"
    "v1ZTs3Xo2+iMnEbSWXqTSXydrX8La2NKzNy0KWRVJ4S86OMt+ggR/32cQRNoKrpHLvvOkh"
    "bNUk+r2FeSKHpKOn1M9ZlSbpDeWNcbIeboQVFLhd+LMJ6KJ6ltPPRcModoYgczyG5PlMxK"
    "f6AbQiC/HLy7QdP9wvvHWcjMKxAzr1AwySzHXDz+NBuw8YPVOfgrP/H/gu9hkPTxA71tlN"
    "nzLzG5qD/gluPl9dseKobhytWxZ+j5dwxyPaSGvzeNsx+80e4pgAjnhc75fe+cd+/5Ny3f"
    "2qdAeDHmMDd7t74MtEN/iBAOFHOZjHF8/gnJd4QgzNjchAfE+990IG1Ke/2MBA0M48tTAR"
    "RuFXu9u0Q2EO/oeCogn8qzGY5Eb5inoDFYh0qcZsu76TDjkaJUiin76BOnynGEfMoYhxhm"
    "jCuUFgSnPNPucwZNIIiPMc1E0cdSjXPV5UFXXTCry5uoxaEDaREfTxeSDOgEp2nhRz+bWN"
    "Kncg8Wn20opbzErKbsmOJCAqrb1FraQAV0iAW3ijLwsMjtjK0arKo1XUay84WEWNpPe3XE"
    "UNxYeuR0etIcRFJdRo63p5xINPmgwyTlGWyoc8hBbnG4L8RoMeusjS1UkrRWv27rTzVGYY"
    "pJHx1HUaBNs5ImPm51Sy6Vv291Tqqdps4cBI3qlKIOwlbyC6mwn/JZimrohmH2oYMpHf/S"
    "h5fOFKO+dXncx+/h8U0fCB"
)
