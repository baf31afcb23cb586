import io
import json

from services.ad_triage.domain.record_lines import CSV_COLUMNS, parse_csv, parse_jsonl
from services.ad_triage.domain.records import Ad, RecordRejected

from .conftest import raw_ad

HEADER = ",".join(CSV_COLUMNS)
ROW = ("dkescort.example,7,https://dkescort.example/annonce/7,2016-05-01T10:00:00+00:00,"
       "2016-05-02T10:00:00+00:00,Anna,Hej med dig,da,Aarhus,phone:+45 29 99 12 34;telegram:@anna_dk,1000,DKK,"
       "07f062cec7b317d9;dd933160d2d58443")


def test_jsonl_yields_every_line_and_continues_after_bad_ones():
    lines = [json.dumps(raw_ad(adId="1")), "{not json", "", json.dumps(raw_ad(adId=None)), json.dumps(raw_ad(adId="4"))]
    results = list(parse_jsonl(lines))
    assert [n for n, _ in results] == [1, 2, 4, 5]  # blank line 3 skipped, numbering unchanged
    assert isinstance(results[0][1], Ad) and isinstance(results[3][1], Ad)
    assert results[1][1].reasons[0].startswith("line: malformed JSON (")
    assert results[2][1].reasons == ["adId: missing"]


def test_jsonl_non_object_line_is_a_reason():
    [(n, rejected)] = list(parse_jsonl(["[1, 2]"]))
    assert isinstance(rejected, RecordRejected) and rejected.reasons == ["record: must be a JSON object, got list"]


def test_csv_contacts_hashes_and_price_are_unpacked():
    [(line_no, ad)] = list(parse_csv(io.StringIO(HEADER + "\n" + ROW + "\n")))
    assert line_no == 2
    assert [(c.kind, c.value) for c in ad.contacts] == [("phone", "+45 29 99 12 34"), ("telegram", "@anna_dk")]
    assert ad.image_hashes == ("07f062cec7b317d9", "dd933160d2d58443")
    assert (ad.price.amount, ad.price.currency) == (1000, "DKK")


def test_csv_bad_rows_are_reported_with_line_numbers_and_parsing_continues():
    bad_price = ROW.replace(",1000,DKK,", ",tusind,DKK,")
    no_kind = ROW.replace("phone:+45 29 99 12 34;", "29991234;")
    text = "\n".join([HEADER, bad_price, "dkescort.example,8", ROW + ",surplus", no_kind, ROW]) + "\n"
    results = list(parse_csv(io.StringIO(text)))
    assert [n for n, _ in results] == [2, 3, 4, 5, 6]
    assert results[0][1].reasons == ["priceAmount: not an integer"]
    assert results[1][1].reasons[0] == "line: fewer cells than header columns"
    assert results[2][1].reasons == ["line: more cells than header columns"]
    assert results[3][1].reasons == ["contacts[0]: expected kind:value"]
    assert isinstance(results[4][1], Ad)


def test_csv_missing_header_columns_is_one_rejection():
    [(line_no, rejected)] = list(parse_csv(io.StringIO("platform,adId\nx,1\n")))
    assert line_no == 1 and rejected.reasons[0].startswith("header: missing column(s) url, firstSeen")


def test_csv_empty_price_cells_mean_no_price():
    row = ROW.replace(",1000,DKK,", ",,,")
    [(_, ad)] = list(parse_csv(io.StringIO(HEADER + "\n" + row + "\n")))
    assert ad.price is None
