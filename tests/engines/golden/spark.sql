-- profile-attribute: homeAddress.countryCode = "US"
COALESCE(p.`homeAddress`.`countryCode` = 'US', FALSE);

-- not-equal-is-false-on-missing: person.gender != "female"
COALESCE(p.`person`.`gender` <> 'female', FALSE);

-- numeric-string-coerced: person.age >= "30"
COALESCE(p.`person`.`age` >= '30', FALSE);

-- in-and-notin: homeAddress.countryCode in ["US", "CA"] and person.gender notIn ["x"]
(
  COALESCE(p.`homeAddress`.`countryCode` IN ('US', 'CA'), FALSE)
)
AND (
  COALESCE(NOT (
    p.`person`.`gender` IN ('x')
  ), FALSE)
);

-- existential-list: tags = "vip"
COALESCE(p.`tags` = 'vip', FALSE);

-- string-methods: person.email.endsWith("@example.com", false) and person.name.contains("an")
(
  COALESCE(ENDSWITH(LOWER(p.`person`.`email`), LOWER('@example.com')), FALSE)
)
AND (
  COALESCE(INSTR(p.`person`.`name`, 'an') > 0, FALSE)
);

-- regex: person.email matches "^[a-z]+@(example|test)\\.com$"
COALESCE(p.`person`.`email` RLIKE '^[a-z]+@(example|test)\\.com\\z', FALSE);

-- like: web.name like "Luma%"
COALESCE(p.`web`.`name` LIKE 'Luma%', FALSE);

-- event-filter-count: xEvent[eventType = "commerce.purchases" and timestamp occurs < 30 days before now].count() >= 2
COALESCE(
  GREATEST(
    SIZE(
      FILTER(
        p.`events`,
        __e1 -> (
          COALESCE(__e1.`eventType` = 'commerce.purchases', FALSE)
        )
        AND (
          COALESCE(
            (
              CASE
                WHEN UNIX_MILLIS(TRY_TO_TIMESTAMP(__e1.`timestamp`)) IS NULL
                AND NOT __e1.`timestamp` IS NULL
                THEN CAST(RAISE_ERROR('a value at line 1, column 45 is not an ISO-8601 timestamp') AS BIGINT)
                ELSE UNIX_MILLIS(TRY_TO_TIMESTAMP(__e1.`timestamp`))
              END BETWEEN 1713182400001 AND 1715774400000
            ),
            FALSE
          )
        )
      )
    ),
    0
  ),
  0
) >= 2;

-- event-sum: xEvent[eventType = "commerce.purchases"].sum(commerce.order.priceTotal) > 100
COALESCE(
  CASE
    WHEN SIZE(
      ARRAY_COMPACT(
        TRANSFORM(
          FILTER(p.`events`, __e1 -> COALESCE(__e1.`eventType` = 'commerce.purchases', FALSE)),
          __e2 -> __e2.`commerce`.`order`.`priceTotal`
        )
      )
    ) = 0
    THEN NULL
    ELSE AGGREGATE(
      ARRAY_COMPACT(
        TRANSFORM(
          FILTER(p.`events`, __e1 -> COALESCE(__e1.`eventType` = 'commerce.purchases', FALSE)),
          __e2 -> __e2.`commerce`.`order`.`priceTotal`
        )
      ),
      CAST(0 AS DOUBLE),
      (acc, x) -> acc + x
    )
  END,
  0
) > 100;

-- exists-binding: exists E from xEvent where E.eventType = "web.pageView" and E.timestamp occurs last month
COALESCE(
  SIZE(
    FILTER(
      p.`events`,
      __v1 -> (
        (
          COALESCE(__v1.`eventType` = 'web.pageView', FALSE)
        )
        AND (
          COALESCE(
            (
              CASE
                WHEN UNIX_MILLIS(TRY_TO_TIMESTAMP(__v1.`timestamp`)) IS NULL
                AND NOT __v1.`timestamp` IS NULL
                THEN CAST(RAISE_ERROR('a value at line 1, column 61 is not an ISO-8601 timestamp') AS BIGINT)
                ELSE UNIX_MILLIS(TRY_TO_TIMESTAMP(__v1.`timestamp`))
              END BETWEEN 1711929600000 AND 1714521599999
            ),
            FALSE
          )
        )
      )
    )
  ) > 0,
  FALSE
);

-- forall-binding: forall E from xEvent where E.commerce.order.priceTotal > 10
COALESCE(
  COALESCE(
    GREATEST(
      SIZE(
        FILTER(
          p.`events`,
          __v1 -> NOT (
            (
              COALESCE(__v1.`commerce`.`order`.`priceTotal` > 10, FALSE)
            )
          )
        )
      ),
      0
    ),
    0
  ) = 0,
  FALSE
);

-- calendar-phrase: xEvent.exists(timestamp occurs this week)
COALESCE(
  SIZE(
    FILTER(
      p.`events`,
      __e1 -> COALESCE(
        (
          CASE
            WHEN UNIX_MILLIS(TRY_TO_TIMESTAMP(__e1.`timestamp`)) IS NULL
            AND NOT __e1.`timestamp` IS NULL
            THEN CAST(RAISE_ERROR('a value at line 1, column 15 is not an ISO-8601 timestamp') AS BIGINT)
            ELSE UNIX_MILLIS(TRY_TO_TIMESTAMP(__e1.`timestamp`))
          END BETWEEN 1715558400000 AND 1716163199999
        ),
        FALSE
      )
    )
  ) > 0,
  FALSE
);

-- not-and-or: not (person.gender = "male" or person.age < 18)
NOT (
  (
    COALESCE(p.`person`.`gender` = 'male', FALSE)
  )
  OR (
    COALESCE(p.`person`.`age` < 18, FALSE)
  )
);

-- in-segment: inSegment("gold-customers") and homeAddress.countryCode = "US"
(
  FALSE
) AND (
  COALESCE(p.`homeAddress`.`countryCode` = 'US', FALSE)
);
